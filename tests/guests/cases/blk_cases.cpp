// blk cases: sectors past the end and overflowing, writes to the read-only disk, malformed
// request layouts (short headers, a device-readable status, no status), bad discard and
// write-zeroes segments, GET_ID into tiny buffers, unknown request types.
#include "case_helpers.hpp"
#include "devices/blk_driver.hpp"

#include <initializer_list>

namespace guest {

namespace {
    struct [[gnu::packed]] DiscardSegment {
        uint64_t sector;
        uint32_t num_sectors;
        uint32_t flags;
    };
    static_assert(sizeof(DiscardSegment) == 16);

    int request_with_segment(Session& session, uint32_t type, DiscardSegment segment)
    {
        auto* bytes = allocate_array<DiscardSegment>(1);
        *bytes = segment;
        return blk_request(session, type, 0, reinterpret_cast<uint64_t>(bytes), sizeof segment, 0, 0);
    }

    void expect_failure(int status, char const* what)
    {
        if (status == blk::status::ok)
            misbehaved(what);
    }

    // Raw chain: a header of `header_length` bytes, then a one-byte status with `status_flags`.
    void submit_header(Session& session, uint32_t type, uint64_t sector, uint32_t header_length, uint16_t status_flags)
    {
        auto* header = allocate_array<blk::RequestHeader>(1);
        header->type = type;
        header->sector = sector;
        auto& queue = session.queues[0];
        queue.set(0, reinterpret_cast<uint64_t>(header), header_length, flag_next, 1);
        queue.set(1, scratch(1), 1, status_flags);
        queue.submit(0);
        settle(session);
    }
} // namespace

HOSTILE_CASE("blk", read_past_end)
{
    uint64_t capacity = blk_capacity(session);
    uint64_t buffer = scratch(4096);
    expect_failure(blk_request(session, blk::request_type::in, capacity, buffer, 512, flag_write, 0),
        "a read at the capacity succeeded");
    expect_failure(blk_request(session, blk::request_type::in, capacity - 1, buffer, 1024, flag_write, 0),
        "a read across the end succeeded");
    return After::Probe;
}

HOSTILE_CASE("blk", sector_overflow)
{
    uint64_t buffer = scratch(4096);
    for (uint64_t sector : { ~0ull, ~0ull >> 9, (~0ull >> 9) + 1, 1ull << 63 }) {
        expect_failure(blk_request(session, blk::request_type::in, sector, buffer, 4096, flag_write, 0),
            "a read with an overflowing sector succeeded");
        expect_failure(blk_request(session, blk::request_type::out, sector, buffer, 4096, 0, 0),
            "a write with an overflowing sector succeeded");
    }
    return After::Probe;
}

HOSTILE_CASE("blk", data_length_not_sector_multiple)
{
    uint64_t buffer = scratch(4096);
    blk_request(session, blk::request_type::in, 0, buffer, 511, flag_write, 0);
    blk_request(session, blk::request_type::out, 2, buffer, 1, 0, 0);
    return After::Probe;
}

HOSTILE_CASE("blk", data_huge)
{
    // One read of 0xffffffff bytes into RAM that is not that large, and one of 48 MiB.
    blk_request(session, blk::request_type::in, 0, arena_start, 0xffff'ffff, flag_write, 0);
    blk_request(session, blk::request_type::in, 0, 0x10'0000, 0x0300'0000, flag_write, 0);
    return After::Probe;
}

HOSTILE_CASE("blk", data_in_mmio_hole)
{
    blk_request(session, blk::request_type::in, 0, mmio_hole_address, 4096, flag_write, 0);
    blk_request(session, blk::request_type::out, 2, session.device.base(), 512, 0, 0);
    return After::Probe;
}

HOSTILE_CASE("blk", read_into_readable_buffer)
{
    blk_request(session, blk::request_type::in, 0, scratch(512), 512, 0, 0);
    return After::Probe;
}

HOSTILE_CASE("blk", write_from_writable_buffer)
{
    blk_request(session, blk::request_type::out, 2, scratch(512), 512, flag_write, 0);
    return After::Probe;
}

HOSTILE_CASE("blk", short_headers)
{
    for (uint32_t length : { 0u, 1u, 8u, 15u })
        submit_header(session, blk::request_type::in, 0, length, flag_write);
    return After::Probe;
}

HOSTILE_CASE("blk", status_device_readable)
{
    submit_header(session, blk::request_type::flush, 0, sizeof(blk::RequestHeader), 0);
    uint64_t buffer = scratch(512);
    auto& queue = session.queues[0];
    auto* header = allocate_array<blk::RequestHeader>(1);
    header->type = blk::request_type::in;
    queue.set(0, reinterpret_cast<uint64_t>(header), sizeof *header, flag_next, 1);
    queue.set(1, buffer, 512, flag_write | flag_next, 2);
    queue.set(2, scratch(1), 1, 0); // readable after writable, too
    queue.submit(0);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("blk", header_only_no_status)
{
    auto* header = allocate_array<blk::RequestHeader>(1);
    header->type = blk::request_type::in;
    auto& queue = session.queues[0];
    queue.set(0, reinterpret_cast<uint64_t>(header), sizeof *header, 0);
    queue.submit(0);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("blk", status_zero_length)
{
    auto* header = allocate_array<blk::RequestHeader>(1);
    header->type = blk::request_type::in;
    auto& queue = session.queues[0];
    queue.set(0, reinterpret_cast<uint64_t>(header), sizeof *header, flag_next, 1);
    queue.set(1, scratch(512), 512, flag_write | flag_next, 2);
    queue.set(2, scratch(1), 0, flag_write);
    queue.submit(0);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("blk", unknown_request_types)
{
    uint64_t buffer = scratch(512);
    for (uint32_t type : { 2u, 3u, 5u, 7u, 9u, 10u, 12u, 14u, 0x8000'0000u, 0xffff'ffffu }) {
        int status = blk_request(session, type, 0, buffer, 512, flag_write, 0);
        expect_failure(status, "an unknown request type succeeded");
    }
    return After::Probe;
}

HOSTILE_CASE("blk", discard_bad_segments)
{
    uint64_t capacity = blk_capacity(session);
    for (DiscardSegment segment : { DiscardSegment { capacity, 1, 0 }, DiscardSegment { capacity - 1, 2, 0 },
             DiscardSegment { ~0ull, 0xffff'ffff, 0 }, DiscardSegment { 0, 0, 0 }, DiscardSegment { 0, 1, 0xffff'ffff },
             DiscardSegment { ~0ull >> 9, 8, 0 } })
        request_with_segment(session, blk::request_type::discard, segment);
    return After::Probe;
}

HOSTILE_CASE("blk", write_zeroes_bad_segments)
{
    uint64_t capacity = blk_capacity(session);
    for (DiscardSegment segment : { DiscardSegment { capacity, 1, 0 }, DiscardSegment { capacity - 1, 2, 1 },
             DiscardSegment { ~0ull, 0xffff'ffff, 1 }, DiscardSegment { 0, 0xffff'ffff, 0 },
             DiscardSegment { 0, 1, 0xfffe } })
        request_with_segment(session, blk::request_type::write_zeroes, segment);
    return After::Probe;
}

HOSTILE_CASE("blk", discard_segment_short_and_many)
{
    auto* segments = allocate_array<DiscardSegment>(64);
    for (uint32_t i = 0; i < 64; ++i)
        segments[i] = { i, 1, 0 };
    uint64_t address = reinterpret_cast<uint64_t>(segments);
    blk_request(session, blk::request_type::discard, 0, address, 10, 0, 0);
    blk_request(session, blk::request_type::discard, 0, address, 64 * sizeof(DiscardSegment), 0, 0);
    blk_request(session, blk::request_type::write_zeroes, 0, address, 17, 0, 0);
    blk_request(session, blk::request_type::discard, 0, address, 16, flag_write, 0);
    return After::Probe;
}

HOSTILE_CASE("blk", get_id_tiny_buffers)
{
    for (uint32_t length : { 1u, 4u, 19u, 21u, 4096u })
        blk_request(session, blk::request_type::get_id, 0, scratch(4096), length, flag_write, 0);
    blk_request(session, blk::request_type::get_id, 0, 0, 0, flag_write, 0);
    return After::Probe;
}

HOSTILE_CASE("blk", flush_with_data_and_sector)
{
    blk_request(session, blk::request_type::flush, 12345, scratch(4096), 4096, flag_write, 0);
    blk_request(session, blk::request_type::flush, ~0ull, scratch(4096), 4096, 0, 0);
    return After::Probe;
}

HOSTILE_CASE("blk", requests_fill_the_ring)
{
    // Sixteen in flight at once, each one of the three descriptors' worth of the table: the
    // second half reuse descriptors the first half still own.
    auto& queue = session.queues[0];
    auto* header = allocate_array<blk::RequestHeader>(1);
    header->type = blk::request_type::in;
    uint64_t data = scratch(4096 * 16);
    for (uint16_t i = 0; i < 16; ++i) {
        uint16_t slot = static_cast<uint16_t>((i * 3) % 15);
        queue.set(slot, reinterpret_cast<uint64_t>(header), sizeof *header, flag_next, static_cast<uint16_t>(slot + 1));
        queue.set(static_cast<uint16_t>(slot + 1), data + i * 4096u, 4096, flag_write | flag_next,
            static_cast<uint16_t>(slot + 2));
        queue.set(static_cast<uint16_t>(slot + 2), scratch(1), 1, flag_write);
        queue.stage(slot);
    }
    queue.publish();
    queue.kick();
    // All sixteen must come back, or the probe could mistake a late one for its own.
    UsedElement used {};
    for (int i = 0; i < 16 && queue.wait_used(used) == WaitResult::Used; ++i) { }
    return After::Probe;
}

HOSTILE_CASE("blk-ro", write_refused)
{
    uint64_t buffer = scratch(4096);
    for (uint64_t sector : { 0ull, 1ull, 7ull, 2047ull })
        expect_failure(blk_request(session, blk::request_type::out, sector, buffer, 4096, 0, 0),
            "a write to the read-only disk succeeded");
    return After::Probe;
}

HOSTILE_CASE("blk-ro", discard_and_write_zeroes_refused)
{
    auto* segment = allocate_array<DiscardSegment>(1);
    *segment = { 0, 8, 1 };
    uint64_t address = reinterpret_cast<uint64_t>(segment);
    expect_failure(blk_request(session, blk::request_type::discard, 0, address, sizeof *segment, 0, 0),
        "a discard on the read-only disk succeeded");
    expect_failure(blk_request(session, blk::request_type::write_zeroes, 0, address, sizeof *segment, 0, 0),
        "write-zeroes on the read-only disk succeeded");
    return After::Probe;
}

HOSTILE_CASE("blk-ro", write_with_read_only_not_negotiated)
{
    // The driver ignores VIRTIO_BLK_F_RO: the device must refuse writes all the same.
    if (!open_session_exact(session, version_1_feature))
        finish(Verdict::SetupFailed);
    expect_failure(blk_request(session, blk::request_type::out, 0, scratch(512), 512, 0, 0),
        "a write to the read-only disk succeeded when the driver did not accept VIRTIO_BLK_F_RO");
    return After::Probe;
}

HOSTILE_CASE("blk-ro", flush_and_read_work)
{
    blk_request(session, blk::request_type::flush, 0, 0, 0, 0, 0);
    blk_request(session, blk::request_type::in, 0, scratch(512), 512, flag_write, 0);
    return After::Probe;
}

} // namespace guest
