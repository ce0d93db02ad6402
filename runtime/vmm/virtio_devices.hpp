// VirtioDevices: the VM's virtio-mmio devices and the event thread that serves them. The event
// thread runs the io_uring EventLoop that every device backend and every queue kick goes
// through (docs/architecture.md); vCPU threads only touch the transports' registers.
// Devices, in slot order: virtio-rng (always: the guest's crng is ready at boot instead of
// waiting for entropy), virtio-vsock (with MachineConfig::vsock), then one virtio-blk per
// MachineConfig::disks entry, so the guest names them /dev/vda, /dev/vdb, ... in that order,
// then virtio-net on a tap (with MachineConfig::net; the guest's eth0).
#pragma once

#include "runtime/base/event_fd.hpp"
#include "runtime/base/result.hpp"
#include "runtime/devices/bus.hpp"
#include "runtime/io/event_loop.hpp"
#include "runtime/kvm/vm.hpp"
#include "runtime/memory/guest_memory.hpp"
#include "runtime/net/tap_device.hpp"
#include "runtime/net/uring_net_backend.hpp"
#include "runtime/vmm/machine_config.hpp"
#include "runtime/vmm/virtio_mmio_slot.hpp"
#include "runtime/vsock/unix_vsock_backend.hpp"
#include "virtio/block/block_backend.hpp"
#include "virtio/net/net_device.hpp"
#include "virtio/rng/entropy_source.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace husk {

class VirtioDevices {
public:
    // Builds every device `config` asks for and plugs it into `vm` and `mmio_bus`; all three
    // arguments must outlive the result, and the Machine destroys `mmio_bus` first (the bus
    // shares the transports, which must go before their devices).
    static Result<std::unique_ptr<VirtioDevices>> create(
        MachineConfig const& config, Vm& vm, GuestMemory& memory, Bus& mmio_bus);
    VirtioDevices(VirtioDevices const&) = delete;
    VirtioDevices& operator=(VirtioDevices const&) = delete;
    ~VirtioDevices();

    // The `virtio_mmio.device=` arguments announcing every slot, space-separated.
    std::string kernel_arguments() const;

    // Starts the event thread; `on_failure` is called on it if the loop fails (the VM cannot
    // go on without its devices) or its seccomp filter cannot be installed.
    Result<void> start(std::function<void(std::string)> on_failure);
    enum class StopMode {
        Immediate, // drop whatever the devices still hold
        // The guest powered off: first serve every queue (kicks the event thread had not picked
        // up yet) and send the host sockets what the guest wrote, within guest_output_flush_limit.
        // The vCPUs must have stopped, so the rings no longer change.
        DeliverGuestOutput,
    };
    static constexpr std::chrono::milliseconds guest_output_flush_limit { 1000 };
    // Stops and joins the event thread. Idempotent.
    void stop(StopMode mode = StopMode::Immediate);

private:
    VirtioDevices() = default;
    Result<void> add(std::unique_ptr<VirtioDevice> device, Vm& vm, GuestMemory& memory, Bus& mmio_bus);
    Result<void> add_disk(DiskConfig const& disk, size_t index, Vm& vm, GuestMemory& memory, Bus& mmio_bus);
    Result<void> add_net(NetConfig const& net, Vm& vm, GuestMemory& memory, Bus& mmio_bus);
    Result<void> watch_delivery_request();
    void deliver_guest_output();
    void stop_when_delivered(std::chrono::steady_clock::time_point deadline);

    // Destruction runs bottom-up: thread (joined), slots, backends, entropy, then the loop.
    std::optional<EventLoop> m_loop;
    GetrandomEntropySource m_entropy;
    std::unique_ptr<UnixVsockBackend> m_vsock_backend;
    std::vector<std::unique_ptr<BlockBackend>> m_block_backends; // outlive their devices in m_slots
    std::optional<TapDevice> m_tap; // outlives its backend, which unregisters it from the loop
    std::unique_ptr<UringNetBackend> m_net_backend;
    NetDevice* m_net_device { nullptr }; // owned by its slot; read for the statistics at stop()
    std::vector<std::unique_ptr<VirtioMmioSlot>> m_slots;
    SeccompMode m_seccomp { SeccompMode::AllThreads };
    // Signalled by stop(DeliverGuestOutput); polled on the loop like a queue kick.
    std::optional<EventFd> m_delivery_request;
    FixedFile m_delivery_request_file {};
    std::thread m_event_thread;
};

} // namespace husk
