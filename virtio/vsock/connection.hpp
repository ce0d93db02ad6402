// VsockConnection: the state of one vsock stream between a guest port and a host port, and its
// credit-based flow control (virtio 1.2 §5.10.6.3). Pure bookkeeping, no I/O: the muxer decides
// what to do with it.
//
// Credit, both ways, in wrapping 32-bit counters exactly like the wire fields:
// - guest → host: we advertise buf_alloc = vsock_buffer_size and fwd_cnt = bytes the host end has
//   consumed. The guest may have at most buf_alloc bytes sent but not consumed; a packet beyond
//   that is a protocol violation. A stalled host reader stops fwd_cnt and so stops the guest.
// - host → guest: the guest advertises its buf_alloc and fwd_cnt in every packet; we never have
//   more than its buf_alloc in flight (sent minus its fwd_cnt).
#pragma once

#include "virtio/vsock/packet.hpp"
#include "virtio/vsock/vsock_backend.hpp"

#include <cstdint>

namespace husk {

// Bytes each connection may have in flight from the guest to the host: the buf_alloc we
// advertise and the most a backend has to hold for one stream.
inline constexpr uint32_t vsock_buffer_size = 256 * 1024;
// Consumed-but-unadvertised bytes that make us send a CREDIT_UPDATE on our own: a quarter of the
// buffer, so a guest streaming at full speed never sees its credit run dry while we have room.
inline constexpr uint32_t vsock_credit_update_threshold = vsock_buffer_size / 4;

enum class VsockConnectionState : uint8_t {
    ConnectingToGuest, // host initiated: REQUEST queued or sent, waiting for the guest's RESPONSE
    ConnectingToHost, // guest initiated: the backend is opening the host end
    Established, // data may flow; either side may have half-closed (see the shutdown flags)
    Closing, // RST queued for the guest; the connection is dropped once it is sent
};

char const* to_string(VsockConnectionState state);

// Control packets a connection owes the guest. Flags rather than a queue: a guest repeating
// CREDIT_REQUEST a thousand times still costs one pending reply.
namespace vsock::pending {
    inline constexpr uint8_t request = 1;
    inline constexpr uint8_t response = 2;
    inline constexpr uint8_t credit_update = 4;
    inline constexpr uint8_t credit_request = 8;
    inline constexpr uint8_t shutdown_send = 16;
} // namespace vsock::pending

class VsockConnection {
public:
    VsockConnection(VsockConnectionKey key, VsockConnectionState state)
        : m_key(key)
        , m_state(state)
    {
    }

    VsockConnectionKey key() const { return m_key; }
    VsockConnectionState state() const { return m_state; }
    void set_state(VsockConnectionState state) { m_state = state; }

    // --- guest → host ---
    // Takes buf_alloc and fwd_cnt from any guest packet. Returns true when that raised the
    // credit we have towards the guest from zero.
    bool update_peer_credit(VsockPacketHeader const& header);
    // Whether `length` more bytes stay within the buffer we advertised.
    bool fits_our_buffer(uint32_t length) const;
    void record_received(uint32_t length) { m_rx_count += length; }
    // The host end took `bytes`; returns true when a CREDIT_UPDATE is now due.
    bool record_consumed(uint32_t bytes);
    // Bytes received from the guest that the host end has not consumed yet.
    uint32_t unconsumed() const { return m_rx_count - m_fwd_count; }
    uint32_t fwd_count() const { return m_fwd_count; }
    // Every packet to the guest carries fwd_cnt: call when one is built.
    void mark_credit_advertised() { m_advertised_fwd_count = m_fwd_count; }

    // --- host → guest ---
    // Bytes we may still send: the guest's buf_alloc minus what it has not acknowledged.
    uint32_t guest_credit() const;
    void record_sent(uint32_t length) { m_tx_count += length; }
    uint32_t tx_count() const { return m_tx_count; }

    // --- shutdown ---
    uint32_t guest_shutdown() const { return m_guest_shutdown; }
    // Returns the flags that are new.
    uint32_t add_guest_shutdown(uint32_t flags);
    uint32_t host_shutdown() const { return m_host_shutdown; }
    void add_host_shutdown(uint32_t flags) { m_host_shutdown |= flags; }
    // Neither side can send anything more: the guest shut SEND and everything it sent was
    // consumed, and we shut SEND or the guest will not receive.
    bool is_finished() const;

    // --- host end ---
    bool host_readable() const { return m_host_readable; }
    void set_host_readable(bool readable) { m_host_readable = readable; }
    bool host_eof() const { return m_host_eof; }
    void set_host_eof() { m_host_eof = true; }
    bool backend_closed() const { return m_backend_closed; }
    void set_backend_closed() { m_backend_closed = true; }
    // Host bytes could go to the guest now if it had an RX buffer.
    bool can_send_data() const;
    bool credit_requested() const { return m_credit_requested; }
    void set_credit_requested() { m_credit_requested = true; }

    // --- RX scheduling ---
    uint8_t pending() const { return m_pending; }
    void add_pending(uint8_t bits) { m_pending |= bits; }
    void clear_pending(uint8_t bits) { m_pending &= static_cast<uint8_t>(~bits); }
    // Something to send to the guest right now.
    bool wants_rx() const;
    bool in_rx_queue() const { return m_in_rx_queue; }
    void set_in_rx_queue(bool queued) { m_in_rx_queue = queued; }
    // A host connect the device holds back (VsockMuxer::host_connect with HostConnectDelivery::
    // Held): never scheduled, and invisible to the guest, until it is released.
    bool held() const { return m_held; }
    void set_held(bool held) { m_held = held; }

private:
    VsockConnectionKey m_key;
    VsockConnectionState m_state;

    uint32_t m_rx_count { 0 }; // bytes received from the guest
    uint32_t m_fwd_count { 0 }; // of those, consumed by the host end
    uint32_t m_advertised_fwd_count { 0 }; // fwd_cnt in the last packet we sent

    uint32_t m_tx_count { 0 }; // bytes sent to the guest
    uint32_t m_peer_buf_alloc { 0 };
    uint32_t m_peer_fwd_count { 0 };
    bool m_credit_requested { false }; // CREDIT_REQUEST sent since the guest last raised our credit

    uint32_t m_guest_shutdown { 0 }; // SHUTDOWN flags the guest sent
    uint32_t m_host_shutdown { 0 }; // SHUTDOWN flags we sent

    bool m_host_readable { false };
    bool m_host_eof { false };
    bool m_backend_closed { false };

    uint8_t m_pending { 0 };
    bool m_in_rx_queue { false };
    bool m_held { false };
};

} // namespace husk
