// VsockMuxer, RX side: picks the next packet for the guest. Per connection the order is what the
// protocol needs: REQUEST/RESPONSE first, then data (which carries our fwd_cnt, so it replaces a
// pending CREDIT_UPDATE), then credit packets, then SHUTDOWN once every host byte was delivered,
// and RST last, after which the connection is gone.
#include "virtio/vsock/muxer.hpp"

#include <algorithm>

namespace husk {

VsockPacketHeader VsockMuxer::header_for(VsockConnectionKey key, vsock::Op op) const
{
    VsockPacketHeader header {};
    header.src_cid = vsock::host_cid;
    header.dst_cid = m_guest_cid;
    header.src_port = key.host_port;
    header.dst_port = key.guest_port;
    header.type = vsock::type_stream;
    header.op = static_cast<uint16_t>(op);
    header.buf_alloc = vsock_buffer_size;
    return header;
}

VsockRxPacket VsockMuxer::control_packet(VsockConnection& connection, vsock::Op op, uint32_t flags)
{
    VsockRxPacket packet;
    packet.header = header_for(connection.key(), op);
    packet.header.flags = flags;
    packet.header.fwd_cnt = connection.fwd_count();
    connection.mark_credit_advertised();
    return packet;
}

std::optional<VsockRxPacket> VsockMuxer::pop_rx(uint32_t max_payload)
{
    if (!m_orphan_resets.empty()) {
        auto key = m_orphan_resets.front();
        m_orphan_resets.pop_front();
        VsockRxPacket packet;
        // No connection, so no credit to advertise: buf_alloc and fwd_cnt stay zero.
        packet.header = header_for(key, vsock::Op::Rst);
        packet.header.buf_alloc = 0;
        ++m_stats.resets_sent;
        ++m_stats.packets_to_guest;
        return packet;
    }
    // Each connection in the queue is looked at once per call at most.
    for (size_t budget = m_rx_queue.size(); budget > 0 && !m_rx_queue.empty(); --budget) {
        auto key = m_rx_queue.front();
        m_rx_queue.pop_front();
        auto* connection = find_mutable(key);
        if (!connection)
            continue;
        connection->set_in_rx_queue(false);
        auto packet = next_packet(*connection, max_payload);
        // The connection may be gone (RST sent); otherwise it goes to the back if it has more.
        if (auto* still = find_mutable(key))
            schedule(*still);
        if (packet) {
            ++m_stats.packets_to_guest;
            return packet;
        }
    }
    return std::nullopt;
}

std::optional<VsockRxPacket> VsockMuxer::next_packet(VsockConnection& connection, uint32_t max_payload)
{
    if (connection.state() == VsockConnectionState::Closing) {
        auto packet = control_packet(connection, vsock::Op::Rst);
        ++m_stats.resets_sent;
        remove(connection.key());
        return packet;
    }
    if (connection.pending() & vsock::pending::request) {
        connection.clear_pending(vsock::pending::request);
        return control_packet(connection, vsock::Op::Request);
    }
    if (connection.pending() & vsock::pending::response) {
        connection.clear_pending(vsock::pending::response);
        return control_packet(connection, vsock::Op::Response);
    }
    if (connection.state() != VsockConnectionState::Established)
        return std::nullopt;
    if (auto data = next_data_packet(connection, max_payload))
        return data;
    if (connection.pending() & vsock::pending::credit_update) {
        connection.clear_pending(vsock::pending::credit_update);
        return control_packet(connection, vsock::Op::CreditUpdate);
    }
    if (connection.pending() & vsock::pending::credit_request) {
        connection.clear_pending(vsock::pending::credit_request);
        return control_packet(connection, vsock::Op::CreditRequest);
    }
    if (connection.pending() & vsock::pending::shutdown_send) {
        connection.clear_pending(vsock::pending::shutdown_send);
        connection.add_host_shutdown(vsock::shutdown_send);
        auto packet = control_packet(connection, vsock::Op::Shutdown, vsock::shutdown_send);
        // The host end is done sending; if the guest is done too, the RST follows this.
        finish_if_done(connection);
        return packet;
    }
    return std::nullopt;
}

std::optional<VsockRxPacket> VsockMuxer::next_data_packet(VsockConnection& connection, uint32_t max_payload)
{
    if (!connection.can_send_data())
        return std::nullopt;
    uint32_t credit = connection.guest_credit();
    if (credit == 0) {
        // The guest's buffer is full. It will send CREDIT_UPDATE as it reads; one request makes
        // sure a lost update cannot stall the stream for good.
        if (!connection.credit_requested()) {
            connection.set_credit_requested();
            connection.add_pending(vsock::pending::credit_request);
        }
        return std::nullopt;
    }
    uint32_t wanted = std::min({ credit, max_payload, vsock::max_packet_payload });
    if (wanted == 0)
        return std::nullopt;
    auto result = m_backend.read(connection.key(), std::span(m_payload).first(wanted));
    size_t bytes = std::min<size_t>(result.bytes, wanted); // never trust a backend to over-report
    if (result.end_of_stream) {
        connection.set_host_eof();
        connection.add_pending(vsock::pending::shutdown_send);
    } else if (bytes == 0) {
        connection.set_host_readable(false); // drained; the backend says when there is more
    }
    if (bytes == 0)
        return std::nullopt;
    auto packet = control_packet(connection, vsock::Op::Rw);
    packet.header.len = static_cast<uint32_t>(bytes);
    packet.payload = std::span(m_payload).first(bytes);
    connection.clear_pending(vsock::pending::credit_update); // this packet carries fwd_cnt
    connection.record_sent(static_cast<uint32_t>(bytes));
    m_stats.bytes_to_guest += bytes;
    return packet;
}

} // namespace husk
