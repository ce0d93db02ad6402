// VsockMuxer: the connection table between the guest's vsock packets and a VsockBackend. Pure
// protocol logic, no guest memory and no I/O: the device feeds it parsed TX packets and backend
// events, and pulls RX packets from it when the guest has posted buffers.
//
// What it enforces, because everything from the guest is hostile:
// - only STREAM packets from the guest's own CID to the host; anything else gets RST;
// - per-connection state: out-of-state packets reset the connection;
// - the guest never sends more than the buffer we advertised (else RST) and never receives more
//   than its own credit allows;
// - at most max_connections connections (more get RST), one pending reply of each kind per
//   connection, and a bounded queue of RSTs for packets that match no connection.
// A stalled host end only stops crediting its own connection: nothing here blocks.
#pragma once

#include "virtio/vsock/connection.hpp"
#include "virtio/vsock/packet.hpp"
#include "virtio/vsock/vsock_backend.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace husk {

struct VsockMuxerLimits {
    size_t max_connections { 1024 };
    // RSTs for packets that match no connection; beyond this they are dropped (the guest's
    // connect or send then times out instead of failing fast).
    size_t max_orphan_resets { 256 };
    // Host connects held back from the guest at once (HostConnectDelivery::Held); more are
    // refused, so a flood of host clients during a hold cannot grow the table.
    size_t max_held_host_connects { 64 };
};

// Whether a host connect's REQUEST goes to the guest now, or waits for release_held_host_connects().
enum class HostConnectDelivery : uint8_t { Now, Held };

// Host ports the muxer hands out for host-initiated streams, as Firecracker does: well above
// the ports host services listen on, so they never collide with a guest's connect target.
inline constexpr uint32_t vsock_first_ephemeral_host_port = 1u << 30;

struct VsockMuxerStats {
    uint64_t packets_from_guest { 0 };
    uint64_t packets_to_guest { 0 };
    uint64_t rejected_packets { 0 }; // failed validate_guest_header
    uint64_t protocol_violations { 0 }; // out-of-state packets, payload beyond our credit
    uint64_t credit_violations { 0 }; // of those, payload beyond our credit
    uint64_t connections_refused { 0 }; // table full, or too many host connects held
    uint64_t resets_sent { 0 };
    uint64_t resets_dropped { 0 }; // orphan RST queue full
    uint64_t bytes_to_host { 0 };
    uint64_t bytes_to_guest { 0 };
};

// A packet for the guest's RX queue. `payload` views the muxer's buffer until the next pop_rx().
struct VsockRxPacket {
    alignas(8) VsockPacketHeader header {}; // see VsockTxPacket::header
    std::span<uint8_t const> payload;
};

class VsockMuxer {
public:
    // `backend` must outlive the muxer.
    VsockMuxer(uint64_t guest_cid, VsockBackend& backend, VsockMuxerLimits limits = {});
    VsockMuxer(VsockMuxer const&) = delete;
    // Snapshots: host ports go on from where the snapshotted VM's muxer was, so a restored
    // guest never sees a new connection on the port of one it still holds from before.
    uint32_t next_host_port() const { return m_next_host_port; }
    void continue_host_ports_from(uint32_t port)
    {
        m_next_host_port = port >= vsock_first_ephemeral_host_port && port != UINT32_MAX
            ? port
            : vsock_first_ephemeral_host_port;
    }
    VsockMuxer& operator=(VsockMuxer const&) = delete;

    uint64_t guest_cid() const { return m_guest_cid; }

    // A TX packet whose structure read_tx_packet() accepted.
    void handle_guest_packet(VsockPacketHeader const& header, std::span<uint8_t const> payload);

    // A TX packet whose header was read but whose payload was not (too long, beyond the chain):
    // resets the connection it names.
    void handle_malformed_packet(VsockPacketHeader const& header);

    // Backend events (VsockBackendEvents, forwarded by the device). A held host connect takes its
    // key and port now; the guest hears of it only once released, and a guest packet naming it
    // before then is answered as if it did not exist.
    std::optional<VsockConnectionKey> host_connect(
        uint32_t guest_port, HostConnectDelivery delivery = HostConnectDelivery::Now);
    void host_connect_result(VsockConnectionKey key, VsockOpenOutcome outcome);
    void host_readable(VsockConnectionKey key);
    void host_consumed(VsockConnectionKey key, uint32_t bytes);
    void host_reset(VsockConnectionKey key);

    // Schedules every held host connect's REQUEST, in the order the connects came.
    void release_held_host_connects();
    size_t held_host_connect_count() const { return m_held_host_connects.size(); }

    // Whether pop_rx() may have something; false means it certainly has nothing.
    bool has_pending_rx() const { return !m_orphan_resets.empty() || !m_rx_queue.empty(); }
    // The next packet for the guest, with at most `max_payload` payload bytes.
    std::optional<VsockRxPacket> pop_rx(uint32_t max_payload);

    // Closes every host end and forgets every connection, held ones too.
    void reset();
    // The guest's driver went away: forgets every connection it knew without calling the
    // backend; returns the keys whose host ends are still open, for the caller to close on the
    // backend's thread. Held host connects stay: the guest never heard of them, so they wait for
    // the next driver.
    std::vector<VsockConnectionKey> detach_all();

    size_t connection_count() const { return m_connections.size(); }
    VsockConnection const* find(VsockConnectionKey key) const;
    VsockMuxerStats const& stats() const { return m_stats; }

private:
    VsockConnection* find_mutable(VsockConnectionKey key);
    void open_guest_connection(VsockConnectionKey key, VsockPacketHeader const& header);
    void handle_connection_packet(
        VsockConnection& connection, vsock::Op op, VsockPacketHeader const& header, std::span<uint8_t const> payload);
    void handle_shutdown(VsockConnection& connection, uint32_t flags);
    void handle_data(VsockConnection& connection, std::span<uint8_t const> payload);
    // Protocol error or host failure: drop the host end, queue RST.
    void reset_connection(VsockConnection& connection);
    // Both directions done: close the host end and queue the RST that ends it for the guest.
    void finish_if_done(VsockConnection& connection);
    void queue_orphan_reset(uint32_t guest_port, uint32_t host_port);
    void schedule(VsockConnection& connection);
    void remove(VsockConnectionKey key);

    std::optional<VsockRxPacket> next_packet(VsockConnection& connection, uint32_t max_payload);
    std::optional<VsockRxPacket> next_data_packet(VsockConnection& connection, uint32_t max_payload);
    VsockRxPacket control_packet(VsockConnection& connection, vsock::Op op, uint32_t flags = 0);
    VsockPacketHeader header_for(VsockConnectionKey key, vsock::Op op) const;

    uint64_t m_guest_cid;
    VsockBackend& m_backend;
    VsockMuxerLimits m_limits;
    std::unordered_map<VsockConnectionKey, VsockConnection, VsockConnectionKeyHash> m_connections;
    // Connections that have something for the guest, in the order they got it (round robin).
    std::deque<VsockConnectionKey> m_rx_queue;
    std::deque<VsockConnectionKey> m_orphan_resets;
    std::deque<VsockConnectionKey> m_held_host_connects; // in arrival order
    uint32_t m_next_host_port { vsock_first_ephemeral_host_port };
    VsockMuxerStats m_stats;
    std::vector<uint8_t> m_payload; // max_packet_payload bytes: host data on its way to the guest
};

} // namespace husk
