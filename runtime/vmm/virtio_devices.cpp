// VirtioDevices: device list, event loop configuration and the event thread.
#include "runtime/vmm/virtio_devices.hpp"

#include "runtime/base/log.hpp"
#include "runtime/base/setup_profile.hpp"
#include "runtime/block/block_backend_factory.hpp"
#include "runtime/block/uring_block_backend.hpp"
#include "runtime/boot/layout.hpp"
#include "runtime/jail/allow_lists.hpp"
#include "runtime/jail/capabilities.hpp"
#include "runtime/jail/seccomp.hpp"
#include "runtime/net/mac_address.hpp"
#include "runtime/net/net_stream_socket.hpp"
#include "runtime/share/share_server.hpp"
#include "virtio/block/block_device.hpp"
#include "virtio/net/net_device.hpp"
#include "virtio/p9/p9_device.hpp"
#include "virtio/rng/rng_device.hpp"
#include "virtio/vsock/vsock_device.hpp"

#include <algorithm>
#include <poll.h>

namespace husk {

namespace {
    // Host sockets the vsock backend keeps at once. Each is also an fd and a fixed-file slot;
    // 512 stays well inside the usual RLIMIT_NOFILE soft limit of 1024.
    constexpr size_t max_vsock_streams = 512;
    // Fixed files besides vsock streams: the backend's listener, one eventfd per queue, one image
    // file per disk and the delivery request.
    constexpr uint32_t other_fixed_files = 64;
    // How often a stop that delivers guest output checks whether the host sockets took it all.
    constexpr auto delivery_check_interval = std::chrono::milliseconds(2);

    // One line at the end of the VM: a warning when frames were refused, cut or lost, so a
    // guest's network trouble shows in the log without --debug.
    void log_net_stats(NetDeviceStats const& stats)
    {
        auto line = "virtio-net: rx " + std::to_string(stats.rx_frames) + " frames " + std::to_string(stats.rx_bytes)
            + " bytes, tx " + std::to_string(stats.tx_frames) + " frames " + std::to_string(stats.tx_bytes)
            + " bytes; refused tx " + std::to_string(stats.tx_malformed)
            + " (last: " + std::string(tx_frame_problem_name(stats.last_tx_problem)) + "), cut rx "
            + std::to_string(stats.rx_truncated) + ", rx/tx errors " + std::to_string(stats.rx_errors) + "/"
            + std::to_string(stats.tx_errors) + ", chain faults " + std::to_string(stats.chain_faults)
            + ", rate-limited rx/tx " + std::to_string(stats.rx_throttled) + "/" + std::to_string(stats.tx_throttled);
        bool trouble
            = stats.tx_malformed + stats.rx_truncated + stats.rx_errors + stats.tx_errors + stats.chain_faults > 0;
        if (trouble)
            log_warn(line);
        else
            log_debug(line);
    }

    // One debug line at the end of the VM: how many host connects waited in the device, and why
    // (bench/spawn and the lab tests read it beside libhusk's refused connects).
    void log_vsock_stats(VsockDeviceStats const& stats)
    {
        log_debug("virtio-vsock: rx " + std::to_string(stats.rx_packets) + " packets, tx "
            + std::to_string(stats.tx_packets) + "; host connects held for the agent "
            + std::to_string(stats.host_connects_held_for_agent) + ", for the transport reset "
            + std::to_string(stats.host_connects_held_for_transport_reset) + ", refused while holding "
            + std::to_string(stats.host_connects_refused_while_holding) + "; cold-boot hold ended by the agent "
            + std::to_string(stats.agent_holds_ended_by_agent) + ", timed out "
            + std::to_string(stats.agent_holds_timed_out));
    }

    // One debug line per share at the end of the VM: where its event-thread time went (bench/share
    // reads it to tell the server's cost from the guest's and the transport's).
    void log_share_stats(std::string const& tag, P9DeviceStats const& stats)
    {
        auto ms
            = [](uint64_t ns) { return std::to_string(ns / 1000000) + "." + std::to_string(ns / 100000 % 10) + " ms"; };
        auto path = [&](P9ZeroCopyStats const& each) {
            return std::to_string(each.requests) + " (" + std::to_string(each.bytes) + " bytes, " + ms(each.serving_ns)
                + ")";
        };
        log_debug("virtio-9p " + tag + ": " + std::to_string(stats.requests_served) + " requests served, "
            + std::to_string(stats.requests_refused) + " refused, serving took " + ms(stats.serving_ns) + " (longest "
            + ms(stats.longest_request_ns) + "); zero-copy writes " + path(stats.writes_in_place) + ", reads "
            + path(stats.reads_in_place));
    }

    EventLoopConfig event_loop_config(MachineConfig const& config)
    {
        EventLoopConfig loop_config;
        loop_config.opcodes = { IoOpcode::Timeout }; // the delivery check at a guest power-off
        if (config.vsock) {
            auto vsock = UnixVsockBackend::required_opcodes();
            loop_config.opcodes.insert(loop_config.opcodes.end(), vsock.begin(), vsock.end());
        }
        if (!config.disks.empty()) {
            auto block = block_backend_opcodes();
            loop_config.opcodes.insert(loop_config.opcodes.end(), block.begin(), block.end());
        }
        if (config.net) {
            auto net = config.net->backend == NetConfig::Backend::Stream ? net_stream_backend_opcodes()
                                                                        : net_backend_opcodes();
            loop_config.opcodes.insert(loop_config.opcodes.end(), net.begin(), net.end());
        }
        loop_config.fixed_file_count = other_fixed_files + (config.vsock ? max_vsock_streams : 0);
        return loop_config;
    }
} // namespace

VirtioDevices::~VirtioDevices() { stop(); }

Result<std::unique_ptr<VirtioDevices>> VirtioDevices::create(
    MachineConfig const& config, Vm& vm, GuestMemory& memory, Bus& mmio_bus)
{
    std::unique_ptr<VirtioDevices> devices(new VirtioDevices());
    devices->m_seccomp = config.seccomp;
    devices->m_loop.emplace(TRY_CONTEXT(EventLoop::create(event_loop_config(config)), "event loop"));

    TRY(devices->add(std::make_unique<RngDevice>(devices->m_entropy), vm, memory, mmio_bus));
    devices->m_identities.push_back({ static_cast<uint32_t>(virtio::DeviceType::Entropy), "virtio-rng" });
    if (config.vsock) {
        UnixVsockBackendLimits limits;
        limits.max_streams = max_vsock_streams;
        devices->m_vsock_backend = TRY(UnixVsockBackend::create(
            *devices->m_loop, config.vsock->uds_path, limits, config.vsock->guest_connect_base));
        auto vsock = std::make_unique<VsockDevice>(config.vsock->guest_cid, *devices->m_vsock_backend);
        devices->m_vsock_device = vsock.get();
        devices->m_hold_until_agent = config.vsock->hold_until_agent_listens;
        TRY(devices->add(std::move(vsock), vm, memory, mmio_bus));
        devices->m_identities.push_back(
            { static_cast<uint32_t>(virtio::DeviceType::Vsock), "virtio-vsock", config.vsock->guest_cid });
    }
    for (size_t index = 0; index < config.disks.size(); ++index)
        TRY(devices->add_disk(config.disks[index], index, vm, memory, mmio_bus));
    if (config.net)
        TRY(devices->add_net(*config.net, vm, memory, mmio_bus));
    for (auto const& share : config.shares)
        TRY(devices->add_share(share, vm, memory, mmio_bus));
    TRY(devices->watch_delivery_request());
    TRY(devices->watch_pause_request());
    return devices;
}

Result<void> VirtioDevices::watch_delivery_request()
{
    m_delivery_request.emplace(TRY(EventFd::create(EventFd::Mode::NonBlocking)));
    m_delivery_request_file = TRY(m_loop->register_file(m_delivery_request->fd()));
    // Fires once; the loop stops soon after. Destroying the loop cancels it if it never fires.
    TRY(m_loop->poll(m_delivery_request_file, POLLIN, Multishot::No, [this](int result) {
        if (result >= 0)
            deliver_guest_output();
    }));
    return {};
}

void VirtioDevices::deliver_guest_output()
{
    for (auto& slot : m_slots)
        slot->serve_all_queues();
    stop_when_delivered(std::chrono::steady_clock::now() + guest_output_flush_limit);
}

void VirtioDevices::stop_when_delivered(std::chrono::steady_clock::time_point deadline)
{
    bool pending = m_vsock_backend && m_vsock_backend->has_unsent_guest_data();
    if (pending && std::chrono::steady_clock::now() < deadline) {
        auto timer = m_loop->timeout(delivery_check_interval, [this, deadline](int) { stop_when_delivered(deadline); });
        if (timer)
            return;
        log_warn("virtio: cannot wait for the host sockets to take the guest's last bytes: " + timer.error().message);
    } else if (pending) {
        log_warn("virtio: the host sockets did not take the guest's last bytes within "
            + std::to_string(guest_output_flush_limit.count()) + " ms; dropping them");
    }
    m_loop->stop();
}

Result<void> VirtioDevices::add(std::unique_ptr<VirtioDevice> device, Vm& vm, GuestMemory& memory, Bus& mmio_bus)
{
    if (m_slots.size() == layout::virtio_mmio_max_slots)
        return fail("too many virtio devices: a VM has " + std::to_string(layout::virtio_mmio_max_slots) + " slots");
    auto placement = virtio_mmio_placement(m_slots.size());
    m_slots.push_back(TRY(VirtioMmioSlot::create(std::move(device), placement, vm, memory, mmio_bus, *m_loop)));
    return {};
}

Result<void> VirtioDevices::add_disk(DiskConfig const& disk, size_t index, Vm& vm, GuestMemory& memory, Bus& mmio_bus)
{
    auto image = TRY(BlockImage::create(disk.path, disk.read_only ? BlockAccess::ReadOnly : BlockAccess::ReadWrite));
    std::string name = std::string("vd") + static_cast<char>('a' + index) + " (" + disk.path + ")";
    auto choice = create_block_backend(std::move(image), &*m_loop, name);
    if (!choice.backend)
        return fail("virtio-blk " + name + ": no backend could be created");
    log_debug("virtio-blk " + name + ": " + (choice.kind == BlockBackendKind::IoUring ? "io_uring" : "synchronous I/O")
        + (disk.read_only ? ", read-only" : ""));
    m_block_backends.push_back(std::move(choice.backend));
    m_identities.push_back({ static_cast<uint32_t>(virtio::DeviceType::Block), "virtio-blk " + name, 0,
        m_block_backends.back()->size_bytes(), disk.read_only });
    return add(std::make_unique<BlockDevice>(*m_block_backends.back()), vm, memory, mmio_bus);
}

Result<void> VirtioDevices::add_net(NetConfig const& net, Vm& vm, GuestMemory& memory, Bus& mmio_bus)
{
    NetDeviceConfig device_config;
    std::string where;
    if (net.backend == NetConfig::Backend::Stream) {
        // Plain frames, no virtio-net header: the device offers no offloads.
        m_net_stream = net.stream_fd ? TRY(adopt_net_stream_socket(*net.stream_fd))
                                     : TRY(connect_net_stream_socket(net.stream_path));
        m_net_backend = TRY_CONTEXT(StreamNetBackend::create(*m_loop, m_net_stream.get()), "--net-stream");
        device_config.offloads = NetOffloads::None;
        where = net.stream_fd ? "stream fd " + std::to_string(*net.stream_fd) : "stream " + net.stream_path;
    } else {
        m_tap.emplace(TRY(TapDevice::open(net.tap_name)));
        TapDevice const& tap = *m_tap;
        m_net_backend = TRY_CONTEXT(UringNetBackend::create(*m_loop, tap.fd(),
                                        [&tap](RxOffloads offloads) { return tap.set_offloads(offloads); }),
            "tap " + net.tap_name);
        where = "tap " + tap.name();
    }
    device_config.mac = net.mac ? *net.mac : TRY(random_local_mac_address());
    m_net_mac_given = net.mac;
    device_config.rx_limit = net.rx_limit;
    device_config.tx_limit = net.tx_limit;
    log_debug("virtio-net on " + where + ", MAC " + format_mac_address(device_config.mac));
    auto device = std::make_unique<NetDevice>(*m_net_backend, std::move(device_config));
    m_net_device = device.get();
    return add(std::move(device), vm, memory, mmio_bus);
}

Result<void> VirtioDevices::add_share(ShareConfig const& share, Vm& vm, GuestMemory& memory, Bus& mmio_bus)
{
    // Opened here, before the jail's pivot_root: the descriptors keep working inside it.
    auto root = TRY(ShareRoot::open(share.host_path, share.read_only ? ShareAccess::ReadOnly : ShareAccess::ReadWrite,
        ShareIdentity { share.serve_uid, share.serve_gid }, share.ownership));
    bool guest_owned = share.ownership == ShareOwnership::Guest;
    log_debug("virtio-9p " + share.tag + ": " + share.host_path + (share.read_only ? ", read-only" : "")
        + (guest_owned ? ", guest owners" : ""));
    m_guest_owned_shares = m_guest_owned_shares || guest_owned;
    // The event thread may open files only beneath this root and in its /proc/self/fd.
    m_share_root_fds.push_back(root.root_fd());
    m_share_proc_fds.push_back(root.proc_fds());
    auto server = std::make_unique<ShareServer>(std::move(root));
    m_share_slots.push_back({ m_slots.size(), server.get(), share.tag, share.read_only, guest_owned, std::nullopt });
    if (share.in_jail)
        m_jailed_shares.emplace_back(&server->root(), *share.in_jail);
    m_share_servers.push_back(std::move(server));
    auto device = std::make_unique<P9Device>(share.tag, *m_share_servers.back());
    m_share_devices.emplace_back(share.tag, device.get());
    return add(std::move(device), vm, memory, mmio_bus);
}

std::string VirtioDevices::kernel_arguments() const
{
    std::string arguments;
    for (auto const& slot : m_slots) {
        if (!arguments.empty())
            arguments += ' ';
        arguments += virtio_mmio_kernel_argument(slot->placement());
    }
    return arguments;
}

Result<void> VirtioDevices::start(std::function<void(std::string)> on_failure)
{
    if (m_event_thread.joinable())
        return fail("the event thread is already running");
    // Same descriptor numbers (the seccomp rules name them), now opened inside the jail's root.
    for (auto& [root, in_jail] : m_jailed_shares)
        TRY_CONTEXT(root->reopen_in_jail(in_jail.directory, in_jail.proc_fds), "the share " + root->host_path());
    bool restoring_shares = has_share_sessions_to_restore();
    if (m_vsock_device && m_hold_until_agent)
        m_agent_hold = TRY(AgentConnectHold::create(*m_loop, *m_vsock_device));
    m_event_thread = std::thread([this, on_failure = std::move(on_failure)] {
        set_log_thread_name("event");
        ::pthread_setname_np(::pthread_self(), "husk-event");
        // Everything the loop and the backends need is open and registered by now: the filter
        // goes on before the first event is handled.
        if (m_seccomp != SeccompMode::Off) {
            SetupPhase phase("event seccomp");
            FileSharingDescriptors shares { m_share_root_fds, m_share_proc_fds,
                m_guest_owned_shares ? FileSharingOwners::Guest : FileSharingOwners::ServerUser };
            if (auto installed = install_seccomp(ThreadKind::Event, shares); !installed) {
                log_error(installed.error().message);
                report_share_sessions_restored(installed.error().message);
                on_failure(installed.error().message);
                return;
            }
        }
        forbidden_syscall_test_hook(ThreadKind::Event);
        // A restore's 9P sessions: with this thread's identity and filter, before any request.
        if (auto restored = restore_share_sessions(); !restored) {
            report_share_sessions_restored(restored.error().message);
            return;
        }
        report_share_sessions_restored("");
        if (m_serve_queues_on_start) {
            for (auto& slot : m_slots)
                slot->serve_all_queues();
        }
        if (auto ran = m_loop->run(); !ran)
            on_failure("the event loop failed: " + ran.error().message);
    });
    if (auto restored = restoring_shares ? wait_for_share_sessions() : Result<void> {}; !restored) {
        m_event_thread.join();
        return restored;
    }
    // The event thread was created with this thread's capabilities; nothing else may keep them
    // (the vCPU threads, created next, inherit this thread's).
    if (m_guest_owned_shares)
        TRY_CONTEXT(drop_thread_capabilities(), "the main thread's capabilities");
    return {};
}

void VirtioDevices::note_boot_marker()
{
    if (m_agent_hold)
        m_agent_hold->note_boot_marker();
}

void VirtioDevices::note_agent_listening()
{
    if (m_agent_hold)
        m_agent_hold->note_agent_listening();
}

void VirtioDevices::stop(StopMode mode)
{
    if (!m_event_thread.joinable())
        return;
    resume(); // a parked event thread would never see the stop
    // Without a live delivery request (signalling failed) the plain stop is all there is.
    bool delivering = mode == StopMode::DeliverGuestOutput && m_delivery_request->signal().has_value();
    if (!delivering)
        m_loop->stop();
    m_event_thread.join();
    if (m_vsock_device)
        log_vsock_stats(m_vsock_device->stats());
    if (m_net_device)
        log_net_stats(m_net_device->stats());
    for (auto const& [tag, device] : m_share_devices)
        log_share_stats(tag, device->stats());
}

} // namespace husk
