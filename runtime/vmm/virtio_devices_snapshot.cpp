// VirtioDevices: the snapshot side. The event thread parks in a completion of its own loop (so
// nothing else runs on it meanwhile) once no device has requests in flight; the main thread then
// reads or writes the transports, and resume() lets the thread go on.
#include "runtime/base/log.hpp"
#include "runtime/net/mac_address.hpp"
#include "runtime/vmm/virtio_devices.hpp"

#include <poll.h>

namespace husk {

namespace {
    constexpr auto drain_check_interval = std::chrono::milliseconds(2);

    std::string device_type_name(uint32_t type)
    {
        switch (static_cast<virtio::DeviceType>(type)) {
        case virtio::DeviceType::Net:
            return "virtio-net";
        case virtio::DeviceType::Block:
            return "virtio-blk";
        case virtio::DeviceType::Console:
            return "virtio-console";
        case virtio::DeviceType::Entropy:
            return "virtio-rng";
        case virtio::DeviceType::NineP:
            return "virtio-9p";
        case virtio::DeviceType::Vsock:
            return "virtio-vsock";
        }
        return "virtio device type " + std::to_string(type);
    }

    std::string device_list(std::vector<uint32_t> const& types)
    {
        std::string list;
        for (auto type : types)
            list += (list.empty() ? "" : ", ") + device_type_name(type);
        return list.empty() ? "none" : list;
    }
} // namespace

Result<void> VirtioDevices::watch_pause_request()
{
    m_pause_request.emplace(TRY(EventFd::create(EventFd::Mode::NonBlocking)));
    m_pause_request_file = TRY(m_loop->register_file(m_pause_request->fd()));
    TRY(m_loop->poll(m_pause_request_file, POLLIN, Multishot::Yes, [this](int result) {
        if (result < 0)
            return;
        (void)m_pause_request->consume();
        try_park();
    }));
    return {};
}

std::vector<std::string> VirtioDevices::devices_without_snapshot_support() const
{
    std::vector<std::string> names;
    for (size_t index = 0; index < m_slots.size(); ++index) {
        auto& device = m_slots[index]->device();
        if (!device.supports_snapshot())
            names.push_back(device_type_name(static_cast<uint32_t>(device.device_type())) + " (slot "
                + std::to_string(index) + ")");
    }
    return names;
}

Result<void> VirtioDevices::pause(std::chrono::steady_clock::time_point deadline)
{
    if (!m_event_thread.joinable())
        return {}; // nothing runs the devices
    {
        std::lock_guard lock(m_pause_lock);
        m_pause_state = PauseState::Draining;
        m_resume_requested = false;
        m_pause_deadline = deadline;
        m_pause_failure.clear();
    }
    TRY_CONTEXT(m_pause_request->signal(), "pausing the event thread");
    std::unique_lock lock(m_pause_lock);
    // A little past the deadline: the event thread itself reports a drain that took too long.
    bool settled = m_pause_changed.wait_until(lock, deadline + std::chrono::milliseconds(100),
        [&] { return m_pause_state == PauseState::Parked || m_pause_state == PauseState::Failed; });
    if (m_pause_state == PauseState::Parked)
        return {};
    m_resume_requested = true; // should it park later after all, it leaves at once
    if (!settled)
        return fail("the device thread did not pause in time (busy in a slow backend)");
    return fail(m_pause_failure);
}

void VirtioDevices::end_device_pause()
{
    for (auto& slot : m_slots) {
        auto lock = slot->transport().lock();
        slot->device().end_pause();
    }
}

void VirtioDevices::try_park()
{
    std::string busy;
    for (size_t index = 0; index < m_slots.size(); ++index) {
        auto& slot = *m_slots[index];
        auto lock = slot.transport().lock();
        slot.device().begin_pause(); // again on every retry: harmless, and covers a late request
        if (slot.device().has_requests_in_flight())
            busy = device_type_name(static_cast<uint32_t>(slot.device().device_type()));
    }
    std::unique_lock lock(m_pause_lock);
    if (m_resume_requested) {
        m_pause_state = PauseState::Running;
        lock.unlock();
        end_device_pause();
        return;
    }
    if (!busy.empty()) {
        if (std::chrono::steady_clock::now() < m_pause_deadline) {
            lock.unlock();
            if (m_loop->timeout(drain_check_interval, [this](int) { try_park(); }))
                return;
            lock.lock();
        }
        m_pause_state = PauseState::Failed;
        m_pause_failure = busy + " still has requests in flight; cannot snapshot now";
        m_pause_changed.notify_all();
        lock.unlock();
        end_device_pause();
        return;
    }
    lock.unlock();
    for (auto& slot : m_slots) {
        auto transport_lock = slot->transport().lock();
        slot->device().prepare_snapshot();
    }
    capture_share_sessions(); // on this thread: its identity and filter serve the shares
    lock.lock();
    m_pause_state = PauseState::Parked;
    m_pause_changed.notify_all();
    m_pause_changed.wait(lock, [&] { return m_resume_requested; });
    m_pause_state = PauseState::Running;
    lock.unlock();
    end_device_pause();
}

void VirtioDevices::resume()
{
    std::lock_guard lock(m_pause_lock);
    m_resume_requested = true;
    m_pause_changed.notify_all();
}

Result<std::vector<VirtioSlotSnapshot>> VirtioDevices::save_state() const
{
    auto sessions = TRY(saved_share_sessions());
    std::vector<VirtioSlotSnapshot> slots;
    for (size_t index = 0; index < m_slots.size(); ++index) {
        VirtioSlotSnapshot slot;
        slot.device_type = static_cast<uint32_t>(m_slots[index]->device().device_type());
        slot.transport = m_slots[index]->transport().save_state();
        if (index < m_identities.size()) {
            slot.vsock_guest_cid = m_identities[index].vsock_guest_cid;
            slot.disk_size_bytes = m_identities[index].disk_size_bytes;
            slot.disk_read_only = m_identities[index].disk_read_only;
        }
        if (m_vsock_device && &m_slots[index]->device() == m_vsock_device)
            slot.vsock_next_host_port = m_vsock_device->next_host_port();
        if (m_net_device && &m_slots[index]->device() == m_net_device)
            slot.net_mac = m_net_device->mac();
        for (size_t share = 0; share < m_share_slots.size(); ++share) {
            if (m_share_slots[share].slot != index)
                continue;
            slot.share_tag = m_share_slots[share].tag;
            slot.share_read_only = m_share_slots[share].read_only;
            slot.share_guest_owners = m_share_slots[share].guest_owners;
            slot.share_session = std::move(sessions[share]);
        }
        slots.push_back(std::move(slot));
    }
    return slots;
}

Result<void> VirtioDevices::restore_state(std::vector<VirtioSlotSnapshot> const& slots)
{
    std::vector<uint32_t> ours;
    std::vector<uint32_t> theirs;
    for (auto const& slot : m_slots)
        ours.push_back(static_cast<uint32_t>(slot->device().device_type()));
    for (auto const& slot : slots)
        theirs.push_back(slot.device_type);
    if (ours != theirs)
        return fail("the snapshot's devices are " + device_list(theirs) + " but the restore options give "
            + device_list(ours) + " (pass the same --vsock, --disk, --net and --share options, in the same order)");
    for (size_t index = 0; index < slots.size(); ++index) {
        auto const& saved = slots[index];
        auto& slot = *m_slots[index];
        if (!slot.device().supports_snapshot())
            return fail(device_type_name(saved.device_type) + " cannot be restored from a snapshot");
        if (index < m_identities.size() && saved.device_type == static_cast<uint32_t>(virtio::DeviceType::Block)) {
            auto const& identity = m_identities[index];
            if (identity.disk_size_bytes != saved.disk_size_bytes)
                return fail(identity.name + " has " + std::to_string(identity.disk_size_bytes)
                    + " bytes; the snapshot's disk had " + std::to_string(saved.disk_size_bytes));
            if (identity.disk_read_only != saved.disk_read_only)
                return fail(identity.name + std::string(" is ") + (identity.disk_read_only ? "read-only" : "writable")
                    + " but was " + (saved.disk_read_only ? "read-only" : "writable") + " in the snapshot");
        }
        if (saved.device_type == static_cast<uint32_t>(virtio::DeviceType::NineP))
            TRY(check_share_slot(index, saved));
        if (m_net_device && &slot.device() == m_net_device)
            TRY(restore_net_mac(saved.net_mac));
        TRY_CONTEXT(slot.transport().restore_state(saved.transport), "restoring slot " + std::to_string(index));
        if (m_vsock_device && &slot.device() == m_vsock_device)
            m_vsock_device->continue_host_ports_from(saved.vsock_next_host_port);
    }
    m_serve_queues_on_start = true;
    m_hold_until_agent = false; // the restored agent listens already
    return {};
}

Result<void> VirtioDevices::restore_net_mac(MacAddress const& saved)
{
    // The guest's eth0 took the snapshot's MAC at its probe and keeps it: the restored device
    // must report the same one. A clone's NIC sits alone on its own tap or stream, so sharing
    // the MAC with its siblings is harmless (docs/snapshots.md).
    if (m_net_mac_given && *m_net_mac_given != saved)
        return fail("the snapshot's virtio-net has MAC " + format_mac_address(saved)
            + "; a restore keeps it (mac=" + format_mac_address(*m_net_mac_given) + " was given)");
    m_net_device->restore_mac(saved);
    return {};
}

void VirtioDevices::tell_devices_restored()
{
    for (auto& slot : m_slots) {
        auto lock = slot->transport().lock();
        slot->device().after_restore();
    }
}

} // namespace husk
