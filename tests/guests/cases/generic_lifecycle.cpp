// Generic cases: resets while requests are in flight, and many resets in a row.
#include "case_helpers.hpp"

namespace guest {

HOSTILE_CASE("*", reset_with_requests_in_flight)
{
    auto& queue = data_queue(session);
    uint64_t buffer = scratch(4096);
    for (uint16_t slot = 0; slot < 12; ++slot) {
        queue.set(slot, buffer, 4096, data_flags(session));
        queue.stage(slot);
    }
    queue.publish();
    queue.kick();
    session.device.reset();
    return After::Reinit;
}

HOSTILE_CASE("*", reset_and_reuse_rings_repeatedly)
{
    // Same ring memory each time, so nothing grows in the guest: only the device is churned.
    auto& device = session.device;
    auto& queue = data_queue(session);
    uint64_t buffer = scratch(4096);
    for (int round = 0; round < 100; ++round) {
        queue.set(0, buffer, 512, data_flags(session));
        queue.stage(0);
        queue.publish();
        queue.kick();
        device.reset();
        if (!device.negotiate(session.features))
            finish(Verdict::SetupFailed);
        for (uint16_t index = 0; index < session.kind->queue_count; ++index) {
            auto const& q = session.queues[index];
            device.configure_queue(index, q.size(), q.descriptor_address(), q.avail_address(), q.used_address());
        }
        device.add_status(vstatus::driver_ok);
    }
    return After::Reinit; // the rings' indices no longer match a fresh device
}

HOSTILE_CASE("*", reset_during_notify_storm)
{
    auto& queue = data_queue(session);
    queue.set(0, scratch(64), 64, data_flags(session));
    for (int round = 0; round < 200; ++round) {
        queue.stage(0);
        queue.publish();
        for (int kick = 0; kick < 50; ++kick)
            queue.kick();
        if (round % 20 == 19)
            session.device.write(mmio::status, 0);
    }
    return After::Reinit;
}

} // namespace guest

namespace guest {

HOSTILE_CASE("*", no_completion_survives_reset)
{
    // Requests in flight at the reset must never complete into the rings of the next session,
    // even when the driver reuses the same memory (Linux does, after a reset on resume).
    auto& device = session.device;
    auto& queue = data_queue(session);
    uint64_t buffer = scratch(64 * 1024);
    for (uint16_t slot = 0; slot < 12; ++slot) {
        queue.set(slot, buffer, 64 * 1024, data_flags(session));
        queue.stage(slot);
    }
    queue.publish();
    queue.kick();
    device.reset();
    queue.used_index() = 0;
    if (!device.negotiate(session.features))
        finish(Verdict::SetupFailed);
    for (uint16_t index = 0; index < session.kind->queue_count; ++index) {
        auto const& q = session.queues[index];
        // Fresh avail index too: the new session starts from 0 on both sides.
        *reinterpret_cast<uint16_t volatile*>(q.avail_address() + ring::avail_idx_offset) = 0;
        device.configure_queue(index, q.size(), q.descriptor_address(), q.avail_address(), q.used_address());
    }
    device.add_status(vstatus::driver_ok);
    UsedElement used {};
    if (queue.wait_used(used, 200 * milliseconds) == WaitResult::Used)
        misbehaved("a request from before the reset completed into the new session's used ring");
    return After::Reinit;
}

} // namespace guest
