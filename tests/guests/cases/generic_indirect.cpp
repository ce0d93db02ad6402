// Generic cases: indirect descriptor tables, bad, nested, looping, oversized, and used without
// VIRTIO_F_INDIRECT_DESC (kinds that do not offer it see every one as "not negotiated").
#include "case_helpers.hpp"

namespace guest {

namespace {
    Descriptor* make_table(uint16_t entries) { return allocate_array<Descriptor>(entries); }

    void submit_indirect(Session& session, uint64_t table, uint32_t length, uint16_t extra_flags = 0)
    {
        auto& queue = data_queue(session);
        queue.set(0, table, length, static_cast<uint16_t>(flag_indirect | extra_flags), 1);
        queue.set(1, scratch(64), 64, data_flags(session));
        queue.submit(0);
        settle(session);
    }

    void reopen_with_indirect(Session& session)
    {
        if (!open_session(session, indirect_feature))
            finish(Verdict::SetupFailed);
    }
} // namespace

HOSTILE_CASE("*", indirect_not_negotiated)
{
    if (!open_session_exact(session, version_1_feature))
        finish(Verdict::SetupFailed);
    auto* table = make_table(2);
    table[0] = { scratch(64), 64, data_flags(session), 0 };
    submit_indirect(session, reinterpret_cast<uint64_t>(table), 16);
    return After::Probe;
}

HOSTILE_CASE("*", indirect_length_not_multiple_of_16)
{
    reopen_with_indirect(session);
    auto* table = make_table(2);
    table[0] = { scratch(64), 64, data_flags(session), 0 };
    submit_indirect(session, reinterpret_cast<uint64_t>(table), 17);
    return After::Probe;
}

HOSTILE_CASE("*", indirect_length_zero)
{
    reopen_with_indirect(session);
    submit_indirect(session, reinterpret_cast<uint64_t>(make_table(1)), 0);
    return After::Probe;
}

HOSTILE_CASE("*", indirect_table_too_large)
{
    reopen_with_indirect(session);
    auto* table = make_table(1024);
    for (uint16_t i = 0; i < 1024; ++i)
        table[i] = { scratch(16), 16, static_cast<uint16_t>(data_flags(session) | (i < 1023 ? flag_next : 0)),
            static_cast<uint16_t>(i + 1) };
    submit_indirect(session, reinterpret_cast<uint64_t>(table), 1024 * sizeof(Descriptor));
    return After::Probe;
}

HOSTILE_CASE("*", indirect_length_0xfffffff0)
{
    reopen_with_indirect(session);
    submit_indirect(session, arena_start, 0xffff'fff0);
    return After::Probe;
}

HOSTILE_CASE("*", indirect_nested)
{
    reopen_with_indirect(session);
    auto* inner = make_table(1);
    inner[0] = { scratch(64), 64, data_flags(session), 0 };
    auto* outer = make_table(1);
    outer[0] = { reinterpret_cast<uint64_t>(inner), 16, flag_indirect, 0 };
    submit_indirect(session, reinterpret_cast<uint64_t>(outer), 16);
    return After::Probe;
}

HOSTILE_CASE("*", indirect_self_reference)
{
    reopen_with_indirect(session);
    auto* table = make_table(1);
    table[0] = { reinterpret_cast<uint64_t>(table), 16, flag_indirect, 0 };
    submit_indirect(session, reinterpret_cast<uint64_t>(table), 16);
    return After::Probe;
}

HOSTILE_CASE("*", indirect_with_next)
{
    reopen_with_indirect(session);
    auto* table = make_table(1);
    table[0] = { scratch(64), 64, data_flags(session), 0 };
    submit_indirect(session, reinterpret_cast<uint64_t>(table), 16, flag_next);
    return After::Probe;
}

HOSTILE_CASE("*", indirect_table_outside_ram)
{
    reopen_with_indirect(session);
    submit_indirect(session, guest_ram_size + 0x100000, 64);
    return After::Probe;
}

HOSTILE_CASE("*", indirect_table_in_mmio_hole)
{
    reopen_with_indirect(session);
    submit_indirect(session, session.device.base(), 64);
    return After::Probe;
}

HOSTILE_CASE("*", indirect_loop)
{
    reopen_with_indirect(session);
    auto* table = make_table(4);
    uint64_t buffer = scratch(64);
    for (uint16_t i = 0; i < 4; ++i)
        table[i] = { buffer, 64, static_cast<uint16_t>(data_flags(session) | flag_next),
            static_cast<uint16_t>((i + 1) % 4) };
    submit_indirect(session, reinterpret_cast<uint64_t>(table), 4 * sizeof(Descriptor));
    return After::Probe;
}

HOSTILE_CASE("*", indirect_next_out_of_range)
{
    reopen_with_indirect(session);
    auto* table = make_table(4);
    table[0] = { scratch(64), 64, static_cast<uint16_t>(data_flags(session) | flag_next), 100 };
    submit_indirect(session, reinterpret_cast<uint64_t>(table), 4 * sizeof(Descriptor));
    return After::Probe;
}

HOSTILE_CASE("*", indirect_not_at_head)
{
    reopen_with_indirect(session);
    auto* table = make_table(1);
    table[0] = { scratch(64), 64, data_flags(session), 0 };
    auto& queue = data_queue(session);
    queue.set(0, scratch(64), 64, static_cast<uint16_t>(data_flags(session) | flag_next), 1);
    queue.set(1, reinterpret_cast<uint64_t>(table), 16, flag_indirect);
    queue.submit(0);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("*", indirect_length_sum_overflow)
{
    // 256 entries (husk's table limit) of 48 MiB each: 12 GiB in one chain.
    reopen_with_indirect(session);
    auto* table = make_table(256);
    for (uint16_t i = 0; i < 256; ++i)
        table[i] = { 0x10'0000, 0x0300'0000, static_cast<uint16_t>(flag_write | (i < 255 ? flag_next : 0)),
            static_cast<uint16_t>(i + 1) };
    submit_indirect(session, reinterpret_cast<uint64_t>(table), 256 * sizeof(Descriptor));
    return After::Probe;
}

HOSTILE_CASE("*", indirect_entries_outside_ram)
{
    reopen_with_indirect(session);
    auto* table = make_table(3);
    table[0] = { guest_ram_size, 64, static_cast<uint16_t>(data_flags(session) | flag_next), 1 };
    table[1] = { 0xffff'ffff'ffff'fff0, 0x20, static_cast<uint16_t>(data_flags(session) | flag_next), 2 };
    table[2] = { mmio_hole_address, 0x1000, data_flags(session), 0 };
    submit_indirect(session, reinterpret_cast<uint64_t>(table), 3 * sizeof(Descriptor));
    return After::Probe;
}

} // namespace guest
