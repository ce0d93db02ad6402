// Generic cases: malformed descriptor chains on the kind's data queue (loops, bad `next`,
// buffers outside RAM, in the MMIO hole or wrapping 2^64, odd lengths). The device must fail the
// request (or the queue) and keep serving.
#include "case_helpers.hpp"

namespace guest {

HOSTILE_CASE("*", descriptor_self_loop)
{
    submit_single(session, scratch(64), 64, flag_next, 0);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("*", descriptor_cycle)
{
    auto& queue = data_queue(session);
    uint64_t buffer = scratch(64);
    queue.set(0, buffer, 64, data_flags(session) | flag_next, 1);
    queue.set(1, buffer, 64, data_flags(session) | flag_next, 2);
    queue.set(2, buffer, 64, data_flags(session) | flag_next, 0);
    queue.submit(0);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("*", descriptor_cycle_through_whole_table)
{
    auto& queue = data_queue(session);
    uint64_t buffer = scratch(64);
    for (uint16_t slot = 0; slot < queue.size(); ++slot)
        queue.set(slot, buffer, 64, data_flags(session) | flag_next, static_cast<uint16_t>((slot + 1) % queue.size()));
    queue.submit(0);
    settle(session);
    // The probe's descriptors were part of the loop: rewritten by the probe itself.
    return After::Probe;
}

HOSTILE_CASE("*", next_out_of_range)
{
    submit_single(session, scratch(64), 64, flag_next, static_cast<uint16_t>(data_queue(session).size() + 5));
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("*", next_max)
{
    submit_single(session, scratch(64), 64, flag_next, 0xffff);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("*", buffer_outside_ram)
{
    submit_single(session, guest_ram_size + 0x10000, 4096);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("*", buffer_crossing_ram_end)
{
    submit_single(session, guest_ram_size - 16, 4096);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("*", buffer_in_mmio_hole)
{
    submit_single(session, mmio_hole_address, 4096);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("*", buffer_on_own_registers)
{
    submit_single(session, session.device.base(), 256);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("*", buffer_wrapping_2_64)
{
    submit_single(session, 0xffff'ffff'ffff'f000, 0x2000);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("*", buffer_address_top_bit)
{
    submit_single(session, 1ull << 63, 512);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("*", length_zero)
{
    submit_single(session, scratch(64), 0);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("*", length_0xffffffff)
{
    submit_single(session, arena_start, 0xffff'ffff);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("*", length_zero_chain)
{
    auto& queue = data_queue(session);
    uint64_t buffer = scratch(64);
    for (uint16_t slot = 0; slot < 8; ++slot)
        queue.set(slot, buffer, 0, static_cast<uint16_t>(data_flags(session) | (slot < 7 ? flag_next : 0)),
            static_cast<uint16_t>(slot + 1));
    queue.submit(0);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("*", readable_after_writable)
{
    auto& queue = data_queue(session);
    uint64_t buffer = scratch(64);
    queue.set(0, buffer, 64, flag_write | flag_next, 1);
    queue.set(1, buffer, 64, 0);
    queue.submit(0);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("*", chain_of_huge_buffers)
{
    // Twelve writable buffers of 56 MiB each (the same RAM): 672 MiB for one request. The sum
    // past 2^32 needs more descriptors than a queue of 16: see indirect_length_sum_overflow.
    auto& queue = data_queue(session);
    for (uint16_t slot = 0; slot < 12; ++slot)
        queue.set(slot, 0x10'0000, 0x0380'0000, static_cast<uint16_t>(flag_write | (slot < 11 ? flag_next : 0)),
            static_cast<uint16_t>(slot + 1));
    queue.submit(0);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("*", descriptors_rewritten_after_publish)
{
    // The device copies each descriptor once; rewriting them right after the kick must not
    // change what it already validated.
    auto& queue = data_queue(session);
    uint64_t buffer = scratch(4096);
    for (int round = 0; round < 200; ++round) {
        queue.set(0, buffer, 64, data_flags(session));
        queue.submit(0);
        queue.set(0, 0xffff'ffff'ffff'0000, 0xffff'ffff, flag_next | flag_indirect, 0xffff);
        settle(session); // one in flight: the ring itself never overflows
    }
    queue.drain();
    return After::Probe;
}

} // namespace guest
