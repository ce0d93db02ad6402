// VirtioDevices: the VM's virtio-mmio devices and the event thread that serves them. The event
// thread runs the io_uring EventLoop that every device backend and every queue kick goes
// through (docs/architecture.md); vCPU threads only touch the transports' registers.
// Devices, in slot order: virtio-rng (always: the guest's crng is ready at boot instead of
// waiting for entropy), virtio-vsock (with MachineConfig::vsock), then one virtio-blk per
// MachineConfig::disks entry, so the guest names them /dev/vda, /dev/vdb, ... in that order,
// then virtio-net on a tap or a frame stream (with MachineConfig::net; the guest's eth0).
// then one virtio-9p per MachineConfig::shares entry (served synchronously on the event thread
// by runtime/share/).
#pragma once

#include "runtime/base/event_fd.hpp"
#include "runtime/base/result.hpp"
#include "runtime/devices/bus.hpp"
#include "runtime/io/event_loop.hpp"
#include "runtime/kvm/vm.hpp"
#include "runtime/memory/guest_memory.hpp"
#include "runtime/net/tap_device.hpp"
#include "runtime/net/stream_net_backend.hpp"
#include "runtime/net/uring_net_backend.hpp"
#include "runtime/vmm/agent_connect_hold.hpp"
#include "runtime/vmm/machine_config.hpp"
#include "runtime/snapshot/machine_snapshot.hpp"
#include "runtime/vmm/virtio_mmio_slot.hpp"
#include "runtime/vsock/unix_vsock_backend.hpp"
#include "virtio/block/block_backend.hpp"
#include "virtio/net/net_device.hpp"
#include "virtio/p9/p9_device.hpp"
#include "virtio/p9/p9_handler.hpp"
#include "virtio/rng/entropy_source.hpp"
#include "virtio/vsock/vsock_device.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace husk {

class ShareServer;

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

    // husk-init's boot marker and agent-listening report (the status device's callbacks, on vCPU
    // threads): they end virtio-vsock's cold-boot hold of host connects (AgentConnectHold).
    void note_boot_marker();
    void note_agent_listening();

    // Starts the event thread; `on_failure` is called on it if the loop fails (the VM cannot
    // go on without its devices) or its seccomp filter cannot be installed. With
    // VsockConfig::hold_until_agent_listens a cold boot's vsock device holds host connects from
    // then on until husk-init's agent listens (bounded). Jailed shares are
    // reopened inside the jail first (ShareConfig::in_jail); with guest-owned shares the calling
    // thread drops every capability once the event thread, which serves them, has inherited them.
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

    // Snapshots (runtime/vmm/virtio_devices_snapshot.cpp).
    // Devices that cannot be snapshotted, by name ("virtio-net in slot 3"); empty when all can.
    std::vector<std::string> devices_without_snapshot_support() const;
    // Parks the event thread once nothing is in flight any more (block requests the backend still
    // holds would write guest memory later), after every device gave back what it holds
    // (VirtioDevice::prepare_snapshot). The vCPUs must be paused. Fails at `deadline`.
    Result<void> pause(std::chrono::steady_clock::time_point deadline);
    // Lets a parked event thread go on. Harmless when it is not parked.
    void resume();
    // The event thread is parked (or not started yet): the slots' state, in slot order. Fails
    // when a share's 9P session cannot be saved (a file the guest holds open was deleted).
    Result<std::vector<VirtioSlotSnapshot>> save_state() const;
    // Before start(): checks the slots against `slots` (same devices in the same order, disks of
    // the same size and mode) and restores every transport. start() then serves every queue
    // once, for kicks the snapshot caught in flight.
    Result<void> restore_state(std::vector<VirtioSlotSnapshot> const& slots);
    // Shares' 9P sessions restored by restore_state are taken over by the event thread, with the
    // jail's identity and filter, before it serves anything: start() fails if one cannot be.
    // VirtioDevice::after_restore for every device. Only once the interrupt controllers and the
    // LAPICs are restored: the interrupts it raises would be overwritten by their saved state.
    void tell_devices_restored();

private:
    VirtioDevices() = default;
    Result<void> add(std::unique_ptr<VirtioDevice> device, Vm& vm, GuestMemory& memory, Bus& mmio_bus);
    Result<void> add_disk(DiskConfig const& disk, size_t index, Vm& vm, GuestMemory& memory, Bus& mmio_bus);
    Result<void> add_net(NetConfig const& net, Vm& vm, GuestMemory& memory, Bus& mmio_bus);
    Result<void> add_share(ShareConfig const& share, Vm& vm, GuestMemory& memory, Bus& mmio_bus);
    Result<void> watch_delivery_request();
    void deliver_guest_output();
    void stop_when_delivered(std::chrono::steady_clock::time_point deadline);
    Result<void> watch_pause_request();
    // On the event thread: parks once nothing is in flight, or fails at the pause deadline.
    void try_park();
    // On the event thread, leaving a pause (parked or not): VirtioDevice::end_pause for each.
    void end_device_pause();
    // restore_state for the virtio-net slot: the device keeps the snapshot's MAC.
    Result<void> restore_net_mac(MacAddress const& saved);

    // Snapshots of shares (virtio_devices_share_snapshot.cpp).
    struct ShareSlot {
        size_t slot { 0 };
        ShareServer* server { nullptr }; // owned by m_share_servers
        std::string tag; // a restore must serve the same tag, mode and owners in this slot
        bool read_only { false };
        bool guest_owners { false };
        std::optional<ShareSession> to_restore;
    };
    // On the parked event thread: every share's session, or the first failure.
    void capture_share_sessions();
    Result<std::vector<ShareSession>> saved_share_sessions() const;
    Result<void> check_share_slot(size_t index, VirtioSlotSnapshot const& saved);
    // On the event thread before it serves: the sessions restore_state kept; tells start().
    Result<void> restore_share_sessions();
    void report_share_sessions_restored(std::string failure);
    Result<void> wait_for_share_sessions();
    bool has_share_sessions_to_restore() const;

    enum class PauseState { Running, Draining, Parked, Failed };
    // What the snapshot records about a slot beyond its transport, from the configuration.
    struct SlotIdentity {
        uint32_t device_type { 0 };
        std::string name; // "virtio-blk vdb (PATH)"
        uint64_t vsock_guest_cid { 0 };
        uint64_t disk_size_bytes { 0 };
        bool disk_read_only { false };
    };

    // Destruction runs bottom-up: thread (joined), slots, backends, entropy, then the loop.
    std::optional<EventLoop> m_loop;
    GetrandomEntropySource m_entropy;
    std::unique_ptr<UnixVsockBackend> m_vsock_backend;
    VsockDevice* m_vsock_device { nullptr }; // owned by its slot
    // A cold boot's hold of vsock host connects; set by start() before any vCPU runs, so the
    // vCPU threads' markers read it without a lock.
    std::unique_ptr<AgentConnectHold> m_agent_hold;
    bool m_hold_until_agent { false }; // VsockConfig::hold_until_agent_listens, off after a restore
    std::vector<std::unique_ptr<BlockBackend>> m_block_backends; // outlive their devices in m_slots
    std::optional<TapDevice> m_tap; // outlives its backend, which unregisters it from the loop
    Fd m_net_stream; // --net-stream's socket, likewise
    std::unique_ptr<NetBackend> m_net_backend;
    NetDevice* m_net_device { nullptr }; // owned by its slot; read for the statistics at stop()
    std::optional<MacAddress> m_net_mac_given; // mac= of --net-tap/--net-stream: a restore checks it
    std::vector<std::unique_ptr<P9Handler>> m_share_servers; // likewise
    std::vector<std::pair<std::string, P9Device*>> m_share_devices; // by tag, owned by their slots; statistics
    std::vector<int> m_share_root_fds; // owned by the servers; pinned in the event thread's seccomp filter
    std::vector<int> m_share_proc_fds;
    // Shares to reopen inside the jail at start(), and whether any is guest-owned (then the
    // thread calling start() gives its capabilities up once the event thread has them).
    std::vector<std::pair<ShareRoot*, ShareConfig::InJail>> m_jailed_shares;
    bool m_guest_owned_shares { false };
    std::vector<ShareSlot> m_share_slots;
    std::optional<Result<std::vector<ShareSession>>> m_captured_sessions; // by the parked event thread
    std::mutex m_share_restore_lock;
    std::condition_variable m_share_restore_changed;
    std::optional<std::string> m_share_restore_failure; // set once the event thread tried; "" = done
    std::vector<std::unique_ptr<VirtioMmioSlot>> m_slots;
    SeccompMode m_seccomp { SeccompMode::AllThreads };
    // Signalled by stop(DeliverGuestOutput); polled on the loop like a queue kick.
    std::optional<EventFd> m_delivery_request;
    FixedFile m_delivery_request_file {};
    std::vector<SlotIdentity> m_identities; // one per slot

    // Snapshot pause handshake between the main thread and the event thread.
    std::optional<EventFd> m_pause_request;
    FixedFile m_pause_request_file {};
    mutable std::mutex m_pause_lock;
    std::condition_variable m_pause_changed;
    PauseState m_pause_state { PauseState::Running };
    bool m_resume_requested { false };
    std::chrono::steady_clock::time_point m_pause_deadline;
    std::string m_pause_failure;
    bool m_serve_queues_on_start { false };

    std::thread m_event_thread;
};

} // namespace husk
