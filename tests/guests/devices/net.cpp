// virtio-net (device 1): the session posts receive buffers of 2 KiB (enough for one frame
// without GSO), the probe does an ARP round trip with the tap's host end.
#include "net_driver.hpp"

#include "runtime/arena.hpp"
#include "runtime/io.hpp"

#include <cstring>

namespace guest {

namespace {
    uint64_t rx_buffers[husk::virtio::max_queue_size]; // by receive descriptor slot
    uint32_t rx_sizes[husk::virtio::max_queue_size];
    uint16_t tx_slot_cursor = 0;
    constexpr uint32_t tx_buffer_size = net::header_size + net::max_plain_frame_size;
    uint64_t tx_buffers[4];

    constexpr uint16_t ethertype_arp = 0x0806;
    constexpr uint16_t arp_request = 1, arp_reply = 2;

    void put16(uint8_t* at, uint16_t value)
    {
        at[0] = static_cast<uint8_t>(value >> 8);
        at[1] = static_cast<uint8_t>(value);
    }
    uint16_t get16(uint8_t const* at) { return static_cast<uint16_t>(at[0] << 8 | at[1]); }
} // namespace

void net_mac(Session& session, uint8_t mac[6])
{
    for (uint32_t i = 0; i < 6; ++i)
        mac[i] = static_cast<uint8_t>(mmio_read8(session.device.base() + mmio::config + i));
}

void net_post_rx(Session& session, uint16_t slot, uint32_t size, uint16_t flags, bool kick)
{
    auto& queue = session.queues[net_rx_queue];
    slot = static_cast<uint16_t>(slot % queue.size());
    if (rx_sizes[slot] < size) {
        rx_buffers[slot] = scratch(size);
        rx_sizes[slot] = size;
    }
    queue.set(slot, rx_buffers[slot], size, flags);
    queue.stage(slot);
    if (kick) {
        queue.publish();
        queue.kick();
    }
}

uint64_t net_rx_buffer(uint16_t slot) { return slot < husk::virtio::max_queue_size ? rx_buffers[slot] : 0; }

bool net_send(Session& session, net::Header const& header, void const* frame, uint32_t frame_length, uint64_t budget)
{
    auto& queue = session.queues[net_tx_queue];
    if (frame_length > tx_buffer_size - net::header_size)
        return false;
    uint16_t slot = static_cast<uint16_t>(probe_slot + tx_slot_cursor++ % 4);
    uint64_t& buffer = tx_buffers[slot - probe_slot];
    if (buffer == 0)
        buffer = scratch(tx_buffer_size);
    memcpy(reinterpret_cast<void*>(buffer), &header, sizeof header);
    memcpy(reinterpret_cast<void*>(buffer + sizeof header), frame, frame_length);
    queue.set(slot, buffer, net::header_size + frame_length, 0);
    queue.submit(slot);
    UsedElement used {};
    return queue.wait_for_head(slot, used, budget) == WaitResult::Used;
}

void net_arp_request(Session& session, uint8_t frame[net_arp_frame_size])
{
    uint8_t mac[6];
    net_mac(session, mac);
    memset(frame, 0xff, 6); // broadcast
    memcpy(frame + 6, mac, 6);
    put16(frame + 12, ethertype_arp);
    uint8_t* arp = frame + net::ethernet_header_size;
    put16(arp, 1); // Ethernet
    put16(arp + 2, 0x0800); // IPv4
    arp[4] = 6;
    arp[5] = 4;
    put16(arp + 6, arp_request);
    memcpy(arp + 8, mac, 6);
    memcpy(arp + 14, net_guest_ip, 4);
    memset(arp + 18, 0, 6);
    memcpy(arp + 24, net_host_ip, 4);
}

bool net_is_arp_reply(uint8_t const* frame, uint32_t length)
{
    if (length < net_arp_frame_size || get16(frame + 12) != ethertype_arp)
        return false;
    uint8_t const* arp = frame + net::ethernet_header_size;
    return get16(arp + 6) == arp_reply && memcmp(arp + 14, net_host_ip, 4) == 0
        && memcmp(arp + 24, net_guest_ip, 4) == 0;
}

bool net_arp_round_trip(Session& session, uint64_t budget)
{
    uint8_t request[net_arp_frame_size];
    net_arp_request(session, request);
    auto& rx = session.queues[net_rx_queue];
    uint64_t deadline = now_ns() + budget;
    uint64_t requests = 0, frames = 0; // for the verdict's line: starved, or answered wrongly
    while (now_ns() < deadline) {
        ++requests;
        if (!net_send(session, net::Header {}, request, sizeof request, deadline - now_ns())) {
            println("net probe: the device did not take the ARP request");
            return false;
        }
        uint64_t resend = now_ns() + 1000 * milliseconds;
        for (;;) {
            UsedElement used {};
            uint64_t now = now_ns();
            uint64_t until = resend < deadline ? resend : deadline;
            auto result = rx.wait_used(used, until > now ? until - now : 0);
            if (result == WaitResult::NeedsReset)
                return false;
            if (result == WaitResult::Timeout)
                break;
            ++frames;
            uint16_t slot = static_cast<uint16_t>(used.id % rx.size());
            uint64_t buffer = rx_buffers[slot];
            bool found = buffer != 0 && used.length > net::header_size && used.length <= rx_sizes[slot]
                && net_is_arp_reply(
                    reinterpret_cast<uint8_t const*>(buffer + net::header_size), used.length - net::header_size);
            if (buffer != 0)
                net_post_rx(session, slot, rx_sizes[slot]);
            if (found)
                return true;
        }
    }
    print("net probe: no ARP reply from the tap's host end (");
    print_decimal(requests);
    print(" requests sent, ");
    print_decimal(frames);
    println(" other frames received)");
    return false;
}

namespace {

    void prepare_net(Session& session)
    {
        for (uint16_t slot = 0; slot < net_session_rx_slots; ++slot)
            net_post_rx(session, slot, net_rx_buffer_size, flag_write, false);
        auto& rx = session.queues[net_rx_queue];
        rx.publish();
        rx.kick();
    }

    bool probe_net(Session& session)
    {
        for (uint16_t slot = probe_slot; slot < session.queues[net_rx_queue].size(); ++slot)
            net_post_rx(session, slot);
        return net_arp_round_trip(session);
    }

    constexpr DeviceKind net_kind {
        .name = "net",
        .device_id = static_cast<uint32_t>(husk::virtio::DeviceType::Net),
        .matches = nullptr,
        .queue_count = 2,
        .data_queue = net_tx_queue,
        .data_flags = 0,
        .wanted_features = feature_mask(net::feature::mac) | feature_mask(net::feature::status),
        .prepare = prepare_net,
        .probe = probe_net,
        .generic_target = true,
    };
    HOSTILE_DEVICE_KIND(net_kind);

} // namespace

} // namespace guest
