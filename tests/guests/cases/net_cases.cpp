// net cases: transmit headers that are short, garbage or lie (GSO fields, num_buffers), oversized
// and runt frames, headers rewritten after the kick, a transmit flood against the rate limiter;
// receive buffers too small, device-readable or truncating, resets and QUEUE_READY toggles with
// frames in flight (the lab streams frames into the tap during every net case), a ring left
// empty under traffic, and MRG_RXBUF games (tiny buffers, garbage num_buffers, more pieces than
// one read takes). Where the device's answer is checkable it is checked: it never writes a
// device-readable receive buffer or past a posted one, and num_buffers tells the truth.
#include "case_helpers.hpp"
#include "devices/net_driver.hpp"
#include "runtime/io.hpp"

#include <cstring>
#include <initializer_list>

namespace guest {

namespace {
    constexpr uint64_t mrg_feature = feature_mask(net::feature::mrg_rxbuf);
    constexpr uint64_t csum_feature = feature_mask(net::feature::csum);
    constexpr uint64_t tso_features = feature_mask(net::feature::host_tso4) | feature_mask(net::feature::host_tso6);
    constexpr uint64_t guest_offloads = feature_mask(net::feature::guest_csum) | feature_mask(net::feature::guest_tso4)
        | feature_mask(net::feature::guest_tso6);

    // A session with `extra` features; `bare`: no receive buffers posted.
    void reopen(Session& session, uint64_t extra, bool bare = false, uint16_t queue_size = session_queue_size)
    {
        uint64_t features = version_1_feature | session.kind->wanted_features | extra;
        bool opened = bare ? open_session_bare(session, features, queue_size)
                           : open_session_exact(session, features, queue_size);
        if (!opened)
            finish(Verdict::SetupFailed);
    }

    // A minimal Ethernet frame (to the tap's host end, local experimental ethertype) of `length`.
    uint64_t frame_buffer(uint32_t length)
    {
        uint64_t buffer = scratch(net::header_size + length);
        auto* bytes = reinterpret_cast<uint8_t*>(buffer + net::header_size);
        memset(bytes, 0xff, 6);
        bytes[6] = 0x02;
        if (length > 13) {
            bytes[12] = 0x88;
            bytes[13] = 0xb5;
        }
        return buffer;
    }

    // Header and `length` frame bytes in one readable descriptor at `slot`, submitted.
    void submit_frame(Session& session, net::Header const& header, uint32_t length, uint16_t slot = 0)
    {
        uint64_t buffer = frame_buffer(length);
        memcpy(reinterpret_cast<void*>(buffer), &header, sizeof header);
        submit_single(session, buffer, net::header_size + length, 0, 0, slot);
    }

    net::Header header_with(uint8_t flags, uint8_t gso_type, uint16_t hdr_len = 0, uint16_t gso_size = 0,
        uint16_t csum_start = 0, uint16_t csum_offset = 0, uint16_t num_buffers = 0)
    {
        return net::Header { flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers };
    }

    // Lets receive traffic arrive for a while.
    void let_frames_arrive(uint64_t budget = 300 * milliseconds)
    {
        uint64_t until = now_ns() + budget;
        while (now_ns() < until)
            cpu_relax();
    }

    constexpr uint8_t guard_byte = 0xa5;

    // Receive buffers of `size` bytes at `slots`, each followed by 64 guard bytes; `flags` for
    // the descriptors.
    uint64_t post_guarded(Session& session, uint16_t first, uint16_t count, uint32_t size, uint16_t flags = flag_write)
    {
        auto& rx = session.queues[net_rx_queue];
        uint64_t stride = (size + 64 + 15) & ~15ull;
        uint64_t area = scratch(stride * count);
        memset(reinterpret_cast<void*>(area), guard_byte, stride * count);
        for (uint16_t i = 0; i < count; ++i) {
            rx.set(static_cast<uint16_t>(first + i), area + i * stride, size, flags);
            rx.stage(static_cast<uint16_t>(first + i));
        }
        rx.publish();
        rx.kick();
        return area;
    }

    void check_guards(uint64_t area, uint16_t count, uint32_t size, bool whole_buffer)
    {
        uint64_t stride = (size + 64 + 15) & ~15ull;
        for (uint16_t i = 0; i < count; ++i) {
            auto const* bytes = reinterpret_cast<uint8_t const*>(area + i * stride);
            for (uint64_t at = whole_buffer ? 0 : size; at < size + 64; ++at) {
                if (bytes[at] != guard_byte)
                    misbehaved(whole_buffer ? "the device wrote a device-readable receive buffer"
                                            : "the device wrote past a receive buffer");
            }
        }
    }

    // Used entries of the receive queue during `budget`: none may claim more than `size` bytes.
    unsigned expect_used_within(Session& session, uint32_t size, uint64_t budget)
    {
        auto& rx = session.queues[net_rx_queue];
        unsigned count = 0;
        UsedElement used {};
        uint64_t until = now_ns() + budget;
        while (now_ns() < until && rx.wait_used(used, until - now_ns()) == WaitResult::Used) {
            ++count;
            if (used.length > size)
                misbehaved("a receive used length larger than the buffer");
        }
        return count;
    }
} // namespace

HOSTILE_CASE("net", tx_header_short)
{
    for (uint32_t length : { 0u, 1u, 5u, 11u }) {
        submit_single(session, frame_buffer(0), length);
        settle(session);
    }
    return After::Probe;
}

HOSTILE_CASE("net", tx_header_only_and_runt_frames)
{
    for (uint32_t length : { 0u, 1u, 13u, 14u, 59u }) {
        submit_frame(session, net::Header {}, length);
        settle(session);
    }
    return After::Probe;
}

HOSTILE_CASE("net", tx_header_garbage_flags_and_gso)
{
    constexpr uint8_t ecn_tcpv4 = net::gso::ecn | net::gso::tcpv4;
    for (auto header : { header_with(0xff, 0), header_with(net::header_flag::data_valid, 0),
             header_with(net::header_flag::rsc_info, 0), header_with(0, 0x7f), header_with(0, net::gso::udp),
             header_with(0, net::gso::udp_l4), header_with(0, ecn_tcpv4), header_with(0, net::gso::tcpv4, 54, 1448),
             header_with(0, net::gso::tcpv6, 74, 1428), header_with(net::header_flag::needs_csum, 0, 0, 0, 34, 16) }) {
        submit_frame(session, header, 1000);
        settle(session);
    }
    return After::Probe;
}

HOSTILE_CASE("net", tx_gso_fields_lie_with_offloads)
{
    reopen(session, csum_feature | tso_features);
    constexpr uint8_t csum = net::header_flag::needs_csum;
    for (auto header :
        { header_with(csum, net::gso::tcpv4, 0xffff, 1448, 34, 16), header_with(csum, net::gso::tcpv4, 54, 0, 34, 16),
            header_with(csum, net::gso::tcpv4, 54, 1, 34, 16), header_with(csum, net::gso::tcpv4, 54, 0xffff, 34, 16),
            header_with(0, net::gso::tcpv4, 54, 1448), header_with(csum, net::gso::tcpv4, 54, 1448, 0xffff, 0xffff),
            header_with(csum, net::gso::tcpv4, 54, 1448, 2, 0), header_with(csum, net::gso::udp, 42, 1000, 34, 6),
            header_with(csum, 0, 0, 0, 0xfff0, 0x20) }) {
        submit_frame(session, header, 1200);
        settle(session);
    }
    // A GSO frame longer than any GSO packet.
    submit_frame(session, header_with(csum, net::gso::tcpv4, 54, 1448, 34, 16), net::max_frame_size + 1);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("net", tx_tso_without_csum)
{
    // TSO without CSUM is not a valid feature set (§5.1.3.1): GSO frames must be refused.
    reopen(session, tso_features | feature_mask(net::feature::guest_tso4));
    submit_frame(session, header_with(net::header_flag::needs_csum, net::gso::tcpv4, 54, 1448, 34, 16), 3000);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("net", tx_num_buffers_lies)
{
    for (uint16_t count : { 1, 2, 0x7fff, 0xffff }) {
        submit_frame(session, header_with(0, 0, 0, 0, 0, 0, count), 100);
        settle(session);
    }
    return After::Probe;
}

HOSTILE_CASE("net", tx_oversized_frames)
{
    for (uint32_t length : { net::max_plain_frame_size + 1, 9000u, net::max_frame_size + 1, 1u << 20 }) {
        submit_frame(session, net::Header {}, length);
        settle(session);
    }
    // A header, then 40 MiB of frame in one descriptor.
    auto& queue = data_queue(session);
    queue.set(0, frame_buffer(0), net::header_size, flag_next, 1);
    queue.set(1, arena_start, 40u << 20, 0);
    queue.submit(0);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("net", tx_header_split_into_bytes)
{
    // A legal but hostile layout: the header one byte per descriptor, then the frame.
    uint64_t buffer = frame_buffer(60);
    auto& queue = data_queue(session);
    for (uint16_t slot = 0; slot < net::header_size; ++slot)
        queue.set(slot, buffer + slot, 1, flag_next, static_cast<uint16_t>(slot + 1));
    queue.set(net::header_size, buffer + net::header_size, 60, 0);
    queue.submit(0);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("net", tx_more_pieces_than_one_write)
{
    // An indirect table of 2048 one-byte pieces: more than a gathered write takes (UIO_MAXIOV).
    reopen(session, indirect_feature);
    constexpr uint16_t pieces = 2048;
    uint64_t buffer = frame_buffer(pieces);
    auto* table = allocate_array<Descriptor>(pieces + 1);
    table[0] = { buffer, net::header_size, flag_next, 1 };
    for (uint16_t i = 1; i <= pieces; ++i)
        table[i] = { buffer + net::header_size + i - 1, 1, static_cast<uint16_t>(i < pieces ? flag_next : 0),
            static_cast<uint16_t>(i + 1) };
    submit_single(session, reinterpret_cast<uint64_t>(table), (pieces + 1) * sizeof(Descriptor), flag_indirect);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("net", tx_only_writable_buffers)
{
    submit_single(session, frame_buffer(100), net::header_size + 100, flag_write);
    settle(session);
    auto& queue = data_queue(session);
    queue.set(0, frame_buffer(0), net::header_size, flag_next, 1);
    queue.set(1, scratch(100), 100, flag_write);
    queue.submit(0);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("net", tx_header_rewritten_after_kick)
{
    // The device sends a checked copy of the header: rewriting the guest's after the kick must
    // not smuggle an unchecked one to the tap.
    auto& queue = data_queue(session);
    for (uint16_t round = 0; round < 8; ++round) {
        uint64_t buffer = frame_buffer(1000);
        uint16_t slot = static_cast<uint16_t>(round % 8);
        queue.set(slot, buffer, net::header_size + 1000, 0);
        queue.submit(slot);
        auto* header = reinterpret_cast<net::Header volatile*>(buffer);
        for (int spin = 0; spin < 2000; ++spin) {
            header->gso_type = net::gso::tcpv4;
            header->gso_size = 1;
            header->hdr_len = 0xffff;
            header->flags = 0xff;
        }
    }
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("net", tx_flood_against_rate_limiter)
{
    // As many valid frames as the ring takes, for two seconds of guest time: the device holds
    // them in the ring while the limiter (tx-pps=1000 in the lab) says no.
    auto& queue = data_queue(session);
    constexpr uint16_t slots = probe_slot; // keep the probe's slots free
    uint64_t buffers[slots];
    for (uint16_t slot = 0; slot < slots; ++slot) {
        buffers[slot] = frame_buffer(60);
        queue.set(slot, buffers[slot], net::header_size + 60, 0);
    }
    uint64_t until = now_ns() + 2000 * milliseconds;
    uint64_t sent = 0, completed = 0;
    for (uint16_t slot = 0; slot < slots; ++slot, ++sent)
        queue.stage(slot);
    queue.publish();
    queue.kick();
    while (now_ns() < until) {
        UsedElement used {};
        if (queue.wait_used(used, until - now_ns()) != WaitResult::Used)
            break;
        ++completed;
        queue.stage(static_cast<uint16_t>(used.id % slots));
        ++sent;
        queue.publish();
        queue.kick();
    }
    print("hostile: tx flood: ");
    print_decimal(sent);
    print(" frames queued, ");
    print_decimal(completed);
    println(" completed in 2 s");
    // tx-pps=1000: a full bucket of 1000 frames, then 1000 a second (slack for the clocks).
    if (completed > 3500)
        misbehaved("the transmit rate limiter let the flood through");
    return After::Probe;
}

HOSTILE_CASE("net", rx_buffers_too_small)
{
    reopen(session, 0, true);
    // 0, 1 and 11 bytes: no room for the 12-byte header; returned empty, never written past.
    uint64_t area0 = post_guarded(session, 0, 4, 1);
    uint64_t area1 = post_guarded(session, 4, 4, 11);
    session.queues[net_rx_queue].set(8, scratch(16), 0, flag_write);
    session.queues[net_rx_queue].submit(8);
    expect_used_within(session, 11, 300 * milliseconds);
    check_guards(area0, 4, 1, false);
    check_guards(area1, 4, 11, false);
    return After::Reinit;
}

HOSTILE_CASE("net", rx_buffers_device_readable)
{
    reopen(session, 0, true);
    uint64_t area = post_guarded(session, 0, 8, net_rx_buffer_size, 0);
    let_frames_arrive();
    check_guards(area, 8, net_rx_buffer_size, true);
    return After::Reinit;
}

HOSTILE_CASE("net", rx_buffers_smaller_than_frames)
{
    // The lab's frames are 1000 and 1514 bytes; 64-byte buffers cannot take them.
    reopen(session, 0, true);
    uint64_t area = post_guarded(session, 0, 12, 64);
    expect_used_within(session, 64, 300 * milliseconds);
    check_guards(area, 12, 64, false);
    return After::Reinit;
}

HOSTILE_CASE("net", rx_no_buffers_under_traffic)
{
    // Frames wait in the tap while the ring is empty; once buffers come, receiving resumes.
    reopen(session, 0, true);
    let_frames_arrive(500 * milliseconds);
    return After::Probe;
}

HOSTILE_CASE("net", rx_reset_mid_traffic)
{
    for (int round = 0; round < 30; ++round) {
        reopen(session, round % 2 ? mrg_feature : 0);
        let_frames_arrive(20 * milliseconds);
        session.device.reset();
    }
    reopen(session, 0);
    return After::Probe;
}

HOSTILE_CASE("net", rx_queue_ready_toggled_mid_traffic)
{
    for (int round = 0; round < 20; ++round) {
        let_frames_arrive(20 * milliseconds);
        session.device.write(mmio::queue_sel, net_rx_queue);
        session.device.write(mmio::queue_ready, 0);
        session.device.write(mmio::queue_ready, 1);
        session.queues[net_rx_queue].kick();
    }
    return After::Reinit;
}

HOSTILE_CASE("net", rx_descriptors_rewritten_after_post)
{
    auto& rx = session.queues[net_rx_queue];
    let_frames_arrive(50 * milliseconds);
    for (uint16_t slot = 0; slot < net_session_rx_slots; ++slot)
        rx.set(slot, guest_ram_size - 8, 0xffff'ffff, flag_write | flag_next, slot);
    rx.kick();
    let_frames_arrive();
    return After::Reinit;
}

HOSTILE_CASE("net", mrg_rxbuf_num_buffers_tells_the_truth)
{
    // 256 receive buffers of 64 bytes, their headers prefilled with a num_buffers lie: each
    // frame spans many; the first buffer's num_buffers must count exactly the used entries that
    // belong to it, and their lengths must add up.
    reopen(session, mrg_feature, true, husk::virtio::max_queue_size);
    auto& rx = session.queues[net_rx_queue];
    constexpr uint32_t size = 64;
    uint64_t area = scratch(size * rx.size());
    memset(reinterpret_cast<void*>(area), 0xee, size * rx.size());
    for (uint16_t slot = 0; slot < rx.size(); ++slot) {
        rx.set(slot, area + slot * size, size, flag_write);
        rx.stage(slot);
    }
    rx.publish();
    rx.kick();
    unsigned frames = 0;
    uint64_t until = now_ns() + 2000 * milliseconds;
    while (frames < 8 && now_ns() < until) {
        UsedElement first {};
        if (rx.wait_used(first, until - now_ns()) != WaitResult::Used)
            break;
        if (first.length < net::header_size)
            misbehaved("a merged receive's first buffer without a header");
        auto const* header = reinterpret_cast<net::Header const*>(area + (first.id % rx.size()) * size);
        uint16_t buffers = header->num_buffers;
        if (buffers == 0 || buffers > rx.size())
            misbehaved("num_buffers out of range");
        uint64_t total = first.length;
        for (uint16_t more = 1; more < buffers; ++more) {
            UsedElement next {};
            if (rx.wait_used(next, default_wait_budget) != WaitResult::Used)
                misbehaved("num_buffers counts buffers the device never returned");
            total += next.length;
        }
        if (total < net::header_size + 60 || total > net::header_size + 1518)
            misbehaved("a merged frame's lengths do not add up to a frame");
        ++frames;
        // Post the consumed buffers again (the ring of 256 is otherwise empty after ~12 frames).
        for (uint16_t slot = 0; slot < buffers; ++slot)
            rx.stage(static_cast<uint16_t>((first.id + slot) % rx.size()));
        rx.publish();
        rx.kick();
    }
    print("hostile: merged frames checked: ");
    print_decimal(frames);
    println("");
    if (frames == 0)
        misbehaved("no frame arrived in merged buffers");
    return After::Reinit;
}

HOSTILE_CASE("net", mrg_rxbuf_ring_smaller_than_a_frame)
{
    // MRG_RXBUF with a ring of 16 buffers of 16 bytes: 256 bytes can never hold a frame.
    reopen(session, mrg_feature, true);
    uint64_t area = post_guarded(session, 0, session_queue_size, 16);
    expect_used_within(session, 16, 300 * milliseconds);
    check_guards(area, session_queue_size, 16, false);
    return After::Reinit;
}

HOSTILE_CASE("net", mrg_rxbuf_more_pieces_than_one_read)
{
    // Every receive chain an indirect table of 200 writable 8-byte pieces: 12 chains are 2400
    // pieces, more than one read gathers.
    reopen(session, mrg_feature | indirect_feature | guest_offloads, true);
    auto& rx = session.queues[net_rx_queue];
    constexpr uint16_t pieces = 200;
    for (uint16_t slot = 0; slot < probe_slot; ++slot) {
        auto* table = allocate_array<Descriptor>(pieces);
        uint64_t buffer = scratch(pieces * 8);
        for (uint16_t i = 0; i < pieces; ++i)
            table[i] = { buffer + i * 8u, 8, static_cast<uint16_t>(flag_write | (i + 1 < pieces ? flag_next : 0)),
                static_cast<uint16_t>(i + 1) };
        rx.set(slot, reinterpret_cast<uint64_t>(table), pieces * sizeof(Descriptor), flag_indirect);
        rx.stage(slot);
    }
    rx.publish();
    rx.kick();
    expect_used_within(session, pieces * 8, 500 * milliseconds);
    return After::Reinit;
}

HOSTILE_CASE("net", mrg_rxbuf_mixed_buffer_sizes)
{
    reopen(session, mrg_feature, true);
    auto& rx = session.queues[net_rx_queue];
    uint32_t sizes[] = { 12, 0, 13, 4096, 1, 11, 2048, 12, 100, 0xffff, 3, 1530 };
    for (uint16_t slot = 0; slot < 12; ++slot) {
        rx.set(slot, scratch(sizes[slot] + 16), sizes[slot], flag_write);
        rx.stage(slot);
    }
    rx.publish();
    rx.kick();
    let_frames_arrive();
    return After::Reinit;
}

HOSTILE_CASE("net", config_mac_written)
{
    uint8_t before[6], after[6];
    net_mac(session, before);
    for (uint32_t i = 0; i < 8; ++i)
        mmio_write8(session.device.base() + mmio::config + i, 0x66);
    session.device.write(mmio::config, 0xffff'ffff);
    net_mac(session, after);
    if (memcmp(before, after, 6) != 0)
        misbehaved("the guest rewrote the device's MAC through the config space");
    return After::Probe;
}

} // namespace guest
