// vsock cases: bogus headers, oversized lengths, spoofed CIDs, credit abuse, connection floods,
// packets for connections that do not exist, and receive buffers the device cannot use.
#include "case_helpers.hpp"
#include "devices/vsock_driver.hpp"

#include <cstring>

namespace guest {

namespace {
    // Sends `length` raw bytes as one readable buffer; false when the device did not return it.
    bool send_raw(Session& session, void const* bytes, uint32_t length)
    {
        auto& queue = session.queues[vsock_tx_queue];
        uint64_t buffer = scratch(length == 0 ? 1 : length);
        memcpy(reinterpret_cast<void*>(buffer), bytes, length);
        queue.set(0, buffer, length, 0);
        queue.submit(0);
        UsedElement used {};
        return queue.wait_for_head(0, used, short_wait_budget) == WaitResult::Used;
    }

    // Opens a connection to the lab listener; returns its local port (0 when refused).
    uint32_t connect(Session& session)
    {
        uint32_t port = vsock_next_port();
        if (!vsock_send(session, vsock_header(session, vsock_op::request, port, vsock_probe_port)))
            return 0;
        VsockHeader reply {};
        if (!vsock_receive(session, port, reply) || reply.op != vsock_op::response)
            return 0;
        return port;
    }
} // namespace

HOSTILE_CASE("vsock", short_header)
{
    auto header = vsock_header(session, vsock_op::request, vsock_next_port(), vsock_probe_port);
    for (uint32_t length : { 0u, 1u, 20u, 43u })
        send_raw(session, &header, length);
    return After::Probe;
}

HOSTILE_CASE("vsock", bad_type_and_ops)
{
    uint32_t port = vsock_next_port();
    for (uint16_t type : { uint16_t(0), uint16_t(2), uint16_t(3), uint16_t(0xffff) }) {
        auto header = vsock_header(session, vsock_op::request, port, vsock_probe_port);
        header.type = type;
        send_raw(session, &header, sizeof header);
    }
    for (uint16_t op : { uint16_t(0), uint16_t(8), uint16_t(0xffff) }) {
        auto header = vsock_header(session, op, port, vsock_probe_port);
        send_raw(session, &header, sizeof header);
    }
    return After::Probe;
}

HOSTILE_CASE("vsock", oversized_len)
{
    uint32_t port = connect(session);
    for (uint32_t length : { 0x10001u, 0x0100'0000u, 0xffff'ffffu }) {
        auto header = vsock_header(session, vsock_op::rw, port, vsock_probe_port, length);
        send_raw(session, &header, sizeof header);
    }
    return After::Probe;
}

HOSTILE_CASE("vsock", len_beyond_chain)
{
    uint32_t port = connect(session);
    auto header = vsock_header(session, vsock_op::rw, port, vsock_probe_port, 4096);
    char packet[sizeof header + 16] {};
    memcpy(packet, &header, sizeof header);
    send_raw(session, packet, sizeof packet);
    return After::Probe;
}

HOSTILE_CASE("vsock", spoofed_src_cid)
{
    for (uint64_t cid : { 0ull, 1ull, 2ull, 4ull, 0xffff'ffffull, ~0ull }) {
        auto header = vsock_header(session, vsock_op::request, vsock_next_port(), vsock_probe_port);
        header.src_cid = cid;
        send_raw(session, &header, sizeof header);
    }
    return After::Probe;
}

HOSTILE_CASE("vsock", wrong_dst_cid)
{
    for (uint64_t cid : { 0ull, 1ull, 3ull, 0xffff'ffffull, ~0ull }) {
        auto header = vsock_header(session, vsock_op::request, vsock_next_port(), vsock_probe_port);
        header.dst_cid = cid;
        send_raw(session, &header, sizeof header);
    }
    return After::Probe;
}

HOSTILE_CASE("vsock", rw_without_connection)
{
    char payload[64] = "data for nobody";
    auto header = vsock_header(session, vsock_op::rw, vsock_next_port(), vsock_probe_port, sizeof payload);
    char packet[sizeof header + sizeof payload];
    memcpy(packet, &header, sizeof header);
    memcpy(packet + sizeof header, payload, sizeof payload);
    for (int round = 0; round < 50; ++round)
        send_raw(session, packet, sizeof packet);
    for (uint16_t op :
        { vsock_op::response, vsock_op::shutdown, vsock_op::credit_update, vsock_op::credit_request, vsock_op::rst }) {
        auto control = vsock_header(session, op, vsock_next_port(), vsock_probe_port);
        send_raw(session, &control, sizeof control);
    }
    return After::Probe;
}

HOSTILE_CASE("vsock", credit_overflow)
{
    // The host advertised its buffer in the RESPONSE; send far more than it, without waiting.
    uint32_t port = connect(session);
    static char payload[60000];
    auto header = vsock_header(session, vsock_op::rw, port, vsock_probe_port, sizeof payload);
    uint64_t buffer = scratch(sizeof header + sizeof payload);
    memcpy(reinterpret_cast<void*>(buffer), &header, sizeof header);
    auto& queue = session.queues[vsock_tx_queue];
    for (uint16_t slot = 0; slot < 8; ++slot) {
        queue.set(slot, buffer, sizeof header + sizeof payload, 0);
        queue.stage(slot);
    }
    queue.publish();
    queue.kick();
    settle(session);
    queue.drain();
    return After::Probe;
}

HOSTILE_CASE("vsock", peer_credit_wraparound)
{
    // buf_alloc 0xffffffff and a fwd_cnt far ahead of what the host sent.
    uint32_t port = vsock_next_port();
    auto header = vsock_header(session, vsock_op::request, port, vsock_probe_port);
    header.buf_alloc = 0xffff'ffff;
    header.fwd_cnt = 0xffff'fff0;
    vsock_send(session, header);
    VsockHeader reply {};
    vsock_receive(session, port, reply, nullptr, 0, short_wait_budget);
    for (uint32_t fwd : { 0u, 0x8000'0000u, 0xffff'ffffu }) {
        auto update = vsock_header(session, vsock_op::credit_update, port, vsock_probe_port);
        update.buf_alloc = 0xffff'ffff;
        update.fwd_cnt = fwd;
        vsock_send(session, update);
    }
    auto request = vsock_header(session, vsock_op::credit_request, port, vsock_probe_port);
    vsock_send(session, request);
    return After::Probe;
}

HOSTILE_CASE("vsock", connection_flood)
{
    // More connection requests than husk's table holds (1024), without reading the answers;
    // then the guest resets them all. While the table is full a new connection is refused (the
    // limit is per VM); once released, the probe must connect again.
    constexpr uint32_t first_port = 20000, count = 1500;
    auto& queue = session.queues[vsock_tx_queue];
    uint64_t buffer = scratch(sizeof(VsockHeader));
    auto send = [&](uint16_t op, uint32_t port) {
        auto header = vsock_header(session, op, port, vsock_probe_port);
        memcpy(reinterpret_cast<void*>(buffer), &header, sizeof header);
        queue.set(0, buffer, sizeof header, 0);
        queue.submit(0);
        UsedElement used {};
        queue.wait_for_head(0, used, short_wait_budget);
    };
    for (uint32_t port = first_port; port < first_port + count; ++port)
        send(vsock_op::request, port);
    for (uint32_t port = first_port; port < first_port + count; ++port)
        send(vsock_op::rst, port);
    // Let the queued answers drain through the rx ring (the probe skips what is not its own).
    VsockHeader ignored {};
    while (vsock_receive(session, 0xffff'fffe, ignored, nullptr, 0, 200 * milliseconds)) { }
    return After::Probe;
}

HOSTILE_CASE("vsock", request_to_closed_ports)
{
    for (uint32_t port : { 0u, 1u, 1233u, 1235u, 0x7fff'ffffu, 0xffff'ffffu })
        vsock_send(session, vsock_header(session, vsock_op::request, vsock_next_port(), port));
    return After::Probe;
}

HOSTILE_CASE("vsock", duplicate_request_on_open_connection)
{
    uint32_t port = connect(session);
    for (int round = 0; round < 20; ++round)
        vsock_send(session, vsock_header(session, vsock_op::request, port, vsock_probe_port));
    return After::Probe;
}

HOSTILE_CASE("vsock", shutdown_flags_garbage)
{
    uint32_t port = connect(session);
    auto header = vsock_header(session, vsock_op::shutdown, port, vsock_probe_port);
    header.flags = 0xffff'ffff;
    vsock_send(session, header);
    auto data = vsock_header(session, vsock_op::rw, port, vsock_probe_port, 4);
    vsock_send(session, data, "late");
    return After::Probe;
}

HOSTILE_CASE("vsock", rx_buffers_too_small)
{
    // Every rx buffer replaced by 8-byte ones (smaller than a header), then traffic for them.
    auto& rx = session.queues[vsock_rx_queue];
    for (uint16_t slot = 0; slot < rx.size(); ++slot) {
        rx.set(slot, scratch(8), 8, flag_write);
        rx.stage(slot);
    }
    rx.publish();
    rx.kick();
    vsock_send(session, vsock_header(session, vsock_op::request, vsock_next_port(), vsock_probe_port));
    vsock_send(session, vsock_header(session, vsock_op::rw, vsock_next_port(), vsock_probe_port));
    settle(session);
    return After::Reinit;
}

HOSTILE_CASE("vsock", rx_buffers_device_readable)
{
    auto& rx = session.queues[vsock_rx_queue];
    for (uint16_t slot = 0; slot < rx.size(); ++slot) {
        rx.set(slot, scratch(4096), 4096, 0);
        rx.stage(slot);
    }
    rx.publish();
    rx.kick();
    vsock_send(session, vsock_header(session, vsock_op::request, vsock_next_port(), vsock_probe_port));
    settle(session);
    return After::Reinit;
}

HOSTILE_CASE("vsock", tx_buffers_device_writable)
{
    auto& queue = session.queues[vsock_tx_queue];
    auto header = vsock_header(session, vsock_op::request, vsock_next_port(), vsock_probe_port);
    uint64_t buffer = scratch(4096);
    memcpy(reinterpret_cast<void*>(buffer), &header, sizeof header);
    queue.set(0, buffer, 4096, flag_write);
    queue.submit(0);
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("vsock", event_queue_garbage)
{
    auto& events = session.queues[vsock_event_queue];
    events.set(0, 0xffff'ffff'ffff'f000, 0xffff'ffff, flag_write | flag_next, 0);
    events.set(1, scratch(1), 1, 0);
    events.stage(0);
    events.stage(1);
    events.publish();
    events.kick();
    settle(session);
    return After::Probe;
}

HOSTILE_CASE("vsock", guest_cid_config_write)
{
    for (uint64_t offset = 0; offset < 8; ++offset)
        session.device.write(mmio::config + (offset & ~3ull), 2);
    return After::Probe;
}

HOSTILE_CASE("vsock", host_data_never_consumed)
{
    // Connect, make the host send (pong), never post rx buffers back: the host side must not
    // grow without bound, and the connection must not wedge the device for others.
    uint32_t port = connect(session);
    auto header = vsock_header(session, vsock_op::rw, port, vsock_probe_port, 4);
    for (int round = 0; round < 200; ++round)
        vsock_send(session, header, "ping");
    return After::Probe;
}

} // namespace guest
