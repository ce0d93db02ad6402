// Machine: one assembled micro-VM (KVM VM, guest memory with the kernel and boot structures,
// legacy devices on the port I/O bus, vCPUs in their boot state) and the loop that runs it to
// a stop. Built by create(), run once by run().
#pragma once

#include "runtime/base/event_fd.hpp"
#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"
#include "runtime/devices/bus.hpp"
#include "runtime/devices/serial.hpp"
#include "runtime/devices/status_device.hpp"
#include "runtime/kvm/kvm.hpp"
#include "runtime/kvm/vcpu.hpp"
#include "runtime/kvm/vm.hpp"
#include "runtime/memory/guest_memory.hpp"
#include "runtime/vmm/machine_config.hpp"
#include "runtime/vmm/stop_controller.hpp"
#include "runtime/vmm/stop_report.hpp"
#include "runtime/vmm/virtio_devices.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace husk {

inline constexpr uint16_t com1_port = 0x3f8;
inline constexpr uint64_t com1_port_count = 8;
inline constexpr uint32_t com1_gsi = 4;
inline constexpr unsigned machine_max_vcpus = 32;

class Machine {
public:
    // Builds the whole VM; any failure (no usable KVM, a corrupt kernel, an initrd that does not
    // fit) is returned with a message naming it, and nothing is left behind.
    static Result<std::unique_ptr<Machine>> create(MachineConfig config);
    Machine(Machine const&) = delete;
    Machine& operator=(Machine const&) = delete;
    ~Machine();

    // Runs the vCPUs until the VM stops and reports why. Call once. Blocks SIGINT and SIGTERM in
    // the calling thread (they end the VM as HostSignal) and leaves them blocked, so a late
    // signal cannot kill the process before the report is written.
    StopReport run();

    // For tests and the control plane joining later. Buses are not locked: add devices (and
    // ioeventfds/irqfds) only before run().
    Bus& mmio_bus() { return m_mmio_bus; }
    Vm& vm() { return m_vm; }
    GuestMemory& memory() { return m_memory; }

private:
    Machine(MachineConfig config, Kvm kvm, Vm vm, GuestMemory memory, StopController stop);
    Result<void> load_guest();
    Result<void> create_devices();
    Result<void> create_virtio_devices();
    Result<void> create_vcpus();
    void on_guest_reset(std::string_view mechanism);
    void on_boot_marker();
    StopReport build_report(std::chrono::steady_clock::time_point stopped_at) const;

    MachineConfig m_config;
    Kvm m_kvm;
    Vm m_vm;
    GuestMemory m_memory;
    StopController m_stop;
    GuestAddress m_kernel_entry;

    Fd m_serial_output;
    std::optional<EventFd> m_serial_interrupt; // irqfd on com1_gsi; outlives m_serial
    std::shared_ptr<Serial> m_serial;
    std::shared_ptr<StatusDevice> m_status;
    // Before the buses: the MMIO bus shares the virtio transports, which must be destroyed
    // before the devices they drive, so the bus has to go first.
    std::unique_ptr<VirtioDevices> m_virtio;
    Bus m_pio_bus;
    Bus m_mmio_bus;

    std::vector<Vcpu> m_vcpus;
    std::atomic<int64_t> m_first_run_ns { 0 }; // steady_clock ns of the first KVM_RUN
    bool m_ran { false };
};

} // namespace husk
