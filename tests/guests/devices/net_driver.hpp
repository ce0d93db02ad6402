// virtio-net from the guest side (virtio 1.2 §5.1): receive queue 0, transmit queue 1, a 12-byte
// virtio_net_hdr_v1 in front of every frame. The lab suite gives husk-vmm a tap whose host end
// has net_host_ip and answers ARP; the probe asks it for its MAC (an ARP request out, the reply
// in), so a well-formed transmit and a well-formed receive both have to work.
#pragma once

#include "runtime/hostile.hpp"
#include "virtio/net/net_spec.hpp"

#include <cstdint>

namespace guest {

namespace net = husk::virtio::net;

inline constexpr uint16_t net_rx_queue = 0, net_tx_queue = 1;
inline constexpr uint32_t net_rx_buffer_size = 2048;
// Receive slots a session posts; the probe adds the ones from probe_slot up.
inline constexpr uint16_t net_session_rx_slots = probe_slot;
// The tap's host end (tests/lab/hostile_test.cpp) and the address the guest claims.
inline constexpr uint8_t net_host_ip[4] = { 10, 78, 0, 1 };
inline constexpr uint8_t net_guest_ip[4] = { 10, 78, 0, 2 };
inline constexpr uint32_t net_arp_frame_size = 42;

// The MAC in the config space.
void net_mac(Session& session, uint8_t mac[6]);
// Posts a device-writable buffer of `size` bytes (`flags` overrides flag_write) at receive
// `slot`, remembered for net_receive; publishes and kicks unless `kick` is false.
void net_post_rx(
    Session& session, uint16_t slot, uint32_t size = net_rx_buffer_size, uint16_t flags = flag_write, bool kick = true);
// The buffer posted at receive `slot`, or 0.
uint64_t net_rx_buffer(uint16_t slot);
// Header and frame in one readable buffer on the transmit queue (a probe slot); waits until the
// device took it.
bool net_send(Session& session, net::Header const& header, void const* frame, uint32_t frame_length,
    uint64_t budget = default_wait_budget);
// A broadcast ARP request for net_host_ip from the guest's MAC and net_guest_ip.
void net_arp_request(Session& session, uint8_t frame[net_arp_frame_size]);
// Whether `frame` is the host's ARP reply to the guest.
bool net_is_arp_reply(uint8_t const* frame, uint32_t length);
// Sends ARP requests (again every second) until the reply arrives; every receive buffer the
// device returns meanwhile is posted again. False on timeout or NEEDS_RESET.
bool net_arp_round_trip(Session& session, uint64_t budget = default_wait_budget);

} // namespace guest
