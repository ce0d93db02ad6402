// Generic cases: lies in the available ring (index jumps, heads out of range, duplicates) and a
// driver writing the used ring the device owns. Index lies are ring-level faults: the device
// should stop the queue and ask for a reset, never loop or crash.
#include "case_helpers.hpp"

namespace guest {

HOSTILE_CASE("*", avail_index_past_queue_size)
{
    auto& queue = data_queue(session);
    queue.set(0, scratch(64), 64, data_flags(session));
    queue.set_avail_index(static_cast<uint16_t>(queue.next_avail() + queue.size() + 1));
    queue.kick();
    settle(session);
    return After::Reinit;
}

HOSTILE_CASE("*", avail_index_half_way_round)
{
    auto& queue = data_queue(session);
    queue.set_avail_index(static_cast<uint16_t>(queue.next_avail() + 0x8000));
    queue.kick();
    settle(session);
    return After::Reinit;
}

HOSTILE_CASE("*", avail_index_backwards)
{
    auto& queue = data_queue(session);
    queue.set_avail_index(static_cast<uint16_t>(queue.next_avail() - 1));
    queue.kick();
    settle(session);
    return After::Reinit;
}

HOSTILE_CASE("*", head_out_of_range)
{
    auto& queue = data_queue(session);
    queue.stage(static_cast<uint16_t>(queue.size() + 3));
    queue.publish();
    queue.kick();
    settle(session);
    return After::Reinit;
}

HOSTILE_CASE("*", head_0xffff)
{
    auto& queue = data_queue(session);
    queue.stage(0xffff);
    queue.publish();
    queue.kick();
    settle(session);
    return After::Reinit;
}

HOSTILE_CASE("*", duplicate_heads)
{
    auto& queue = data_queue(session);
    queue.set(0, scratch(64), 64, data_flags(session));
    queue.stage(0);
    queue.stage(0);
    queue.stage(0);
    queue.publish();
    queue.kick();
    settle(session);
    queue.drain();
    return After::Probe;
}

HOSTILE_CASE("*", whole_ring_one_head)
{
    auto& queue = data_queue(session);
    queue.set(0, scratch(64), 64, data_flags(session));
    for (uint16_t i = 0; i < queue.size(); ++i)
        queue.stage(0);
    queue.publish();
    queue.kick();
    settle(session);
    queue.drain();
    return After::Probe;
}

HOSTILE_CASE("*", used_ring_scribbled_while_device_writes)
{
    auto& queue = data_queue(session);
    uint64_t buffer = scratch(64);
    for (uint32_t round = 0; round < 2000; ++round) {
        queue.set(static_cast<uint16_t>(round % 4), buffer, 64, data_flags(session));
        queue.submit(static_cast<uint16_t>(round % 4));
        queue.used_index() = static_cast<uint16_t>(round * 7919);
        auto volatile& element = queue.used_element(static_cast<uint16_t>(round));
        element.id = 0xffff'ffff;
        element.length = 0xffff'ffff;
    }
    settle(session);
    return After::Reinit; // the driver lost track of its own used index on purpose
}

HOSTILE_CASE("*", avail_flags_and_used_event_garbage)
{
    if (!open_session(session, event_idx_feature))
        finish(Verdict::SetupFailed);
    auto& queue = data_queue(session);
    auto* avail = reinterpret_cast<uint16_t volatile*>(queue.avail_address());
    avail[0] = 0xffff; // flags
    avail[2 + queue.size()] = 0x8000; // used_event
    queue.set(0, scratch(64), 64, data_flags(session));
    for (int round = 0; round < 100; ++round) {
        queue.submit(0);
        avail[2 + queue.size()] = static_cast<uint16_t>(round * 3);
    }
    settle(session);
    queue.drain();
    avail[0] = 0;
    return After::Probe;
}

} // namespace guest
