// VirtioDevices: the virtio-9p part of snapshots. A share's 9P session (its fids) is read and
// restored on the event thread, which serves the shares and holds the filter and the identity
// their file system calls are made with: read while it is parked for a snapshot (every request
// is served synchronously there, so none is ever in flight), restored when it starts after a
// restore and before it serves anything; start() waits for that and fails if a fid cannot be
// resolved again, before any vCPU runs.
#include "runtime/base/log.hpp"
#include "runtime/share/share_server.hpp"
#include "runtime/snapshot/snapshot_format.hpp"
#include "runtime/vmm/virtio_devices.hpp"

#include <algorithm>

namespace husk {

namespace {
    std::string mode_name(bool read_only, bool guest_owners)
    {
        return std::string(read_only ? "read-only" : "writable") + (guest_owners ? " with the guest's owners" : "");
    }
} // namespace

void VirtioDevices::capture_share_sessions()
{
    std::vector<ShareSession> sessions;
    for (auto const& share : m_share_slots) {
        auto saved = share.server->save_session();
        if (!saved) {
            m_captured_sessions.emplace(fail("the share " + share.tag + ": " + saved.error().message));
            return;
        }
        sessions.push_back(std::move(saved).value());
    }
    m_captured_sessions.emplace(std::move(sessions));
}

Result<std::vector<ShareSession>> VirtioDevices::saved_share_sessions() const
{
    std::vector<ShareSession> sessions;
    if (m_event_thread.joinable()) {
        // Read by the event thread when it parked; it is still parked.
        if (!m_captured_sessions)
            return fail("the shares' 9P sessions were not read (the device thread is not paused)");
        sessions = TRY(*m_captured_sessions);
    } else {
        for (auto const& share : m_share_slots)
            sessions.push_back(TRY_CONTEXT(share.server->save_session(), "the share " + share.tag));
    }
    for (size_t i = 0; i < sessions.size(); ++i) {
        if (sessions[i].fids.size() > snapshot_format::max_share_fids)
            return fail("the share " + m_share_slots[i].tag + ": the guest holds "
                + std::to_string(sessions[i].fids.size()) + " fids, a snapshot keeps at most "
                + std::to_string(snapshot_format::max_share_fids));
    }
    return sessions;
}

Result<void> VirtioDevices::check_share_slot(size_t index, VirtioSlotSnapshot const& saved)
{
    auto share = std::find_if(
        m_share_slots.begin(), m_share_slots.end(), [&](ShareSlot const& each) { return each.slot == index; });
    if (share == m_share_slots.end())
        return fail("slot " + std::to_string(index) + " is not a share");
    if (share->tag != saved.share_tag)
        return fail("the snapshot's virtio-9p slot " + std::to_string(index) + " serves the tag " + saved.share_tag
            + " but the restore options give " + share->tag + " there (pass --share HOSTDIR:" + saved.share_tag
            + ", in the same order)");
    if (share->read_only != saved.share_read_only || share->guest_owners != saved.share_guest_owners)
        return fail("the share " + share->tag + " is " + mode_name(share->read_only, share->guest_owners) + " but was "
            + mode_name(saved.share_read_only, saved.share_guest_owners) + " in the snapshot");
    share->to_restore = saved.share_session;
    return {};
}

bool VirtioDevices::has_share_sessions_to_restore() const
{
    return std::any_of(m_share_slots.begin(), m_share_slots.end(),
        [](ShareSlot const& share) { return share.to_restore.has_value(); });
}

Result<void> VirtioDevices::restore_share_sessions()
{
    for (auto& share : m_share_slots) {
        if (!share.to_restore)
            continue;
        TRY_CONTEXT(share.server->restore_session(*share.to_restore),
            "cannot restore the share " + share.tag + " from " + share.server->root().host_path());
        log_debug("virtio-9p " + share.tag + ": " + std::to_string(share.to_restore->fids.size()) + " fids restored");
        share.to_restore.reset();
    }
    return {};
}

void VirtioDevices::report_share_sessions_restored(std::string failure)
{
    std::lock_guard lock(m_share_restore_lock);
    m_share_restore_failure = std::move(failure);
    m_share_restore_changed.notify_all();
}

Result<void> VirtioDevices::wait_for_share_sessions()
{
    std::unique_lock lock(m_share_restore_lock);
    m_share_restore_changed.wait(lock, [&] { return m_share_restore_failure.has_value(); });
    if (!m_share_restore_failure->empty())
        return fail(*m_share_restore_failure);
    return {};
}

} // namespace husk
