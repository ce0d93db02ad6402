// virtio-vsock (device 19): the session posts every rx slot with a 4 KiB buffer and the event
// queue with small ones; the probe opens a connection to the lab's host listener, sends "ping",
// expects "pong" and resets the connection.
#include "vsock_driver.hpp"

#include "runtime/arena.hpp"

#include <cstring>

namespace guest {

namespace {
    uint32_t next_port = 40000;
    uint64_t rx_buffers[256]; // by rx descriptor slot
    uint16_t tx_slot_cursor = 0;
    constexpr uint32_t tx_buffer_size = 64 * 1024 + sizeof(VsockHeader);
    uint64_t tx_buffers[4];
} // namespace

uint32_t vsock_next_port() { return next_port++; }

uint64_t vsock_guest_cid(Session& session)
{
    uint64_t low = session.device.read(mmio::config);
    uint64_t high = session.device.read(mmio::config + 4);
    return low | high << 32;
}

VsockHeader vsock_header(Session& session, uint16_t op, uint32_t src_port, uint32_t dst_port, uint32_t len)
{
    VsockHeader header {};
    header.src_cid = vsock_guest_cid(session);
    header.dst_cid = vsock_host_cid;
    header.src_port = src_port;
    header.dst_port = dst_port;
    header.len = len;
    header.type = vsock_type_stream;
    header.op = op;
    header.buf_alloc = vsock_buf_alloc;
    return header;
}

bool vsock_send(Session& session, VsockHeader const& header, void const* payload, uint64_t budget)
{
    auto& queue = session.queues[vsock_tx_queue];
    uint32_t length = sizeof header + (payload ? header.len : 0);
    if (length > tx_buffer_size)
        return false;
    uint16_t slot = static_cast<uint16_t>(probe_slot + tx_slot_cursor++ % 4);
    // One buffer per slot for the whole boot: a case may send many megabytes.
    uint64_t& buffer = tx_buffers[slot - probe_slot];
    if (buffer == 0)
        buffer = scratch(tx_buffer_size);
    memcpy(reinterpret_cast<void*>(buffer), &header, sizeof header);
    if (payload)
        memcpy(reinterpret_cast<void*>(buffer + sizeof header), payload, header.len);
    queue.set(slot, buffer, length, 0);
    queue.submit(slot);
    UsedElement used {};
    return queue.wait_for_head(slot, used, budget) == WaitResult::Used;
}

bool vsock_receive(
    Session& session, uint32_t local_port, VsockHeader& header, void* payload, uint32_t capacity, uint64_t budget)
{
    auto& queue = session.queues[vsock_rx_queue];
    for (;;) {
        UsedElement used {};
        if (queue.wait_used(used, budget) != WaitResult::Used)
            return false;
        uint16_t slot = static_cast<uint16_t>(used.id % queue.size());
        uint64_t buffer = rx_buffers[slot];
        VsockHeader got {};
        bool complete = used.length >= sizeof got && buffer != 0;
        if (complete)
            memcpy(&got, reinterpret_cast<void const*>(buffer), sizeof got);
        if (complete && got.dst_port == local_port && payload) {
            uint32_t count = got.len < capacity ? got.len : capacity;
            memcpy(payload, reinterpret_cast<void const*>(buffer + sizeof got), count);
        }
        // Post the buffer again for the next packet.
        if (buffer != 0) {
            queue.set(slot, buffer, vsock_rx_buffer_size, flag_write);
            queue.submit(slot);
        }
        if (complete && got.dst_port == local_port) {
            header = got;
            return true;
        }
    }
}

namespace {

    void prepare_vsock(Session& session)
    {
        auto& rx = session.queues[vsock_rx_queue];
        for (uint16_t slot = 0; slot < rx.size(); ++slot) {
            rx_buffers[slot] = scratch(vsock_rx_buffer_size);
            rx.set(slot, rx_buffers[slot], vsock_rx_buffer_size, flag_write);
            rx.stage(slot);
        }
        rx.publish();
        rx.kick();
        auto& events = session.queues[vsock_event_queue];
        for (uint16_t slot = 0; slot < 4; ++slot) {
            events.set(slot, scratch(8), 8, flag_write);
            events.stage(slot);
        }
        events.publish();
        events.kick();
    }

    bool probe_vsock(Session& session)
    {
        uint32_t port = vsock_next_port();
        if (!vsock_send(session, vsock_header(session, vsock_op::request, port, vsock_probe_port))) {
            println("vsock probe: the device did not take the connection request");
            return false;
        }
        VsockHeader reply {};
        if (!vsock_receive(session, port, reply) || reply.op != vsock_op::response) {
            print("vsock probe: no RESPONSE from the host listener (op ");
            print_decimal(reply.op);
            println(")");
            return false;
        }
        char const ping[4] = { 'p', 'i', 'n', 'g' };
        if (!vsock_send(session, vsock_header(session, vsock_op::rw, port, vsock_probe_port, 4), ping)) {
            println("vsock probe: the device did not take the data");
            return false;
        }
        for (;;) {
            char pong[4] = {};
            if (!vsock_receive(session, port, reply, pong, sizeof pong)) {
                println("vsock probe: no answer from the host listener");
                return false;
            }
            if (reply.op == vsock_op::credit_update || reply.op == vsock_op::credit_request)
                continue;
            if (reply.op != vsock_op::rw || memcmp(pong, "pong", 4) != 0) {
                print("vsock probe: expected RW \"pong\", got op ");
                print_decimal(reply.op);
                println("");
                return false;
            }
            break;
        }
        vsock_send(session, vsock_header(session, vsock_op::rst, port, vsock_probe_port));
        return true;
    }

    constexpr DeviceKind vsock_kind {
        .name = "vsock",
        .device_id = static_cast<uint32_t>(husk::virtio::DeviceType::Vsock),
        .matches = nullptr,
        .queue_count = 3,
        .data_queue = vsock_tx_queue,
        .data_flags = 0,
        .wanted_features = 0,
        .prepare = prepare_vsock,
        .probe = probe_vsock,
        .generic_target = true,
    };
    HOSTILE_DEVICE_KIND(vsock_kind);

} // namespace

} // namespace guest
