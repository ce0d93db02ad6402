// VsockMuxer: guest packets and backend events in, connection state and RX packets out.
#include "virtio/vsock/muxer.hpp"

#include <algorithm>

namespace husk {

VsockMuxer::VsockMuxer(uint64_t guest_cid, VsockBackend& backend, VsockMuxerLimits limits)
    : m_guest_cid(guest_cid)
    , m_backend(backend)
    , m_limits(limits)
    , m_payload(vsock::max_packet_payload)
{
}

VsockConnection const* VsockMuxer::find(VsockConnectionKey key) const
{
    auto found = m_connections.find(key);
    return found == m_connections.end() ? nullptr : &found->second;
}

VsockConnection* VsockMuxer::find_mutable(VsockConnectionKey key)
{
    auto found = m_connections.find(key);
    return found == m_connections.end() ? nullptr : &found->second;
}

void VsockMuxer::handle_guest_packet(VsockPacketHeader const& header, std::span<uint8_t const> payload)
{
    ++m_stats.packets_from_guest;
    auto op = packet_op(header);
    if (validate_guest_header(header, m_guest_cid) != VsockPacketError::None) {
        ++m_stats.rejected_packets;
        // Never answer a RST with a RST: two peers doing that would ping-pong forever.
        if (op != vsock::Op::Rst)
            queue_orphan_reset(header.src_port, header.dst_port);
        return;
    }
    VsockConnectionKey key { header.src_port, header.dst_port };
    auto* connection = find_mutable(key);
    if (connection && connection->held()) {
        // Not sent yet: a guest naming it guessed the port. As for any unknown connection (a
        // REQUEST too: the key is taken).
        if (op != vsock::Op::Rst)
            queue_orphan_reset(key.guest_port, key.host_port);
        return;
    }
    if (!connection) {
        if (op == vsock::Op::Request)
            open_guest_connection(key, header);
        else if (op != vsock::Op::Rst)
            queue_orphan_reset(key.guest_port, key.host_port);
        return;
    }
    handle_connection_packet(*connection, op, header, payload);
}

void VsockMuxer::handle_malformed_packet(VsockPacketHeader const& header)
{
    ++m_stats.packets_from_guest;
    ++m_stats.protocol_violations;
    if (packet_op(header) == vsock::Op::Rst)
        return;
    if (header.src_cid == m_guest_cid && header.dst_cid == vsock::host_cid) {
        auto* connection = find_mutable({ header.src_port, header.dst_port });
        if (connection && !connection->held()) {
            reset_connection(*connection);
            return;
        }
    }
    queue_orphan_reset(header.src_port, header.dst_port);
}

void VsockMuxer::open_guest_connection(VsockConnectionKey key, VsockPacketHeader const& header)
{
    if (m_connections.size() >= m_limits.max_connections) {
        ++m_stats.connections_refused;
        queue_orphan_reset(key.guest_port, key.host_port);
        return;
    }
    auto& connection = m_connections.try_emplace(key, key, VsockConnectionState::ConnectingToHost).first->second;
    connection.update_peer_credit(header);
    switch (m_backend.open_stream(key)) {
    case VsockOpenOutcome::Connected:
        connection.set_state(VsockConnectionState::Established);
        connection.add_pending(vsock::pending::response);
        schedule(connection);
        break;
    case VsockOpenOutcome::InProgress:
        break;
    case VsockOpenOutcome::Refused:
        connection.set_backend_closed();
        reset_connection(connection);
        break;
    }
}

void VsockMuxer::handle_connection_packet(
    VsockConnection& connection, vsock::Op op, VsockPacketHeader const& header, std::span<uint8_t const> payload)
{
    if (op == vsock::Op::Rst) {
        if (!connection.backend_closed())
            m_backend.close(connection.key());
        remove(connection.key());
        return;
    }
    if (connection.state() == VsockConnectionState::Closing)
        return; // our RST is on its way; nothing the guest says changes that
    if (connection.update_peer_credit(header))
        schedule(connection);

    switch (op) {
    case vsock::Op::Response:
        if (connection.state() != VsockConnectionState::ConnectingToGuest) {
            ++m_stats.protocol_violations;
            reset_connection(connection);
            return;
        }
        connection.set_state(VsockConnectionState::Established);
        m_backend.accept_stream(connection.key());
        schedule(connection); // host bytes may already be waiting
        return;
    case vsock::Op::Shutdown:
        handle_shutdown(connection, header.flags);
        return;
    case vsock::Op::Rw:
        handle_data(connection, payload);
        return;
    case vsock::Op::CreditUpdate:
        return; // the credit was taken above
    case vsock::Op::CreditRequest:
        connection.add_pending(vsock::pending::credit_update);
        schedule(connection);
        return;
    case vsock::Op::Request: // for a connection that exists: the guest lost track of it
    case vsock::Op::Invalid:
    case vsock::Op::Rst:
        break;
    }
    ++m_stats.protocol_violations;
    reset_connection(connection);
}

void VsockMuxer::handle_shutdown(VsockConnection& connection, uint32_t flags)
{
    if (connection.state() != VsockConnectionState::Established) {
        ++m_stats.protocol_violations;
        reset_connection(connection);
        return;
    }
    uint32_t added = connection.add_guest_shutdown(flags);
    // The backend delivers what it already holds before it half-closes the host end.
    if ((added & vsock::shutdown_send) && !connection.backend_closed())
        m_backend.shutdown_write(connection.key());
    finish_if_done(connection);
    schedule(connection);
}

void VsockMuxer::handle_data(VsockConnection& connection, std::span<uint8_t const> payload)
{
    if (connection.state() != VsockConnectionState::Established
        || (connection.guest_shutdown() & vsock::shutdown_send)) {
        ++m_stats.protocol_violations;
        reset_connection(connection);
        return;
    }
    auto length = static_cast<uint32_t>(payload.size());
    if (!connection.fits_our_buffer(length)) {
        // The guest ignored the credit we gave it: buffering more would let it grow our memory.
        ++m_stats.protocol_violations;
        ++m_stats.credit_violations;
        reset_connection(connection);
        return;
    }
    if (length == 0)
        return;
    if (connection.backend_closed() || !m_backend.write(connection.key(), payload)) {
        connection.set_backend_closed();
        reset_connection(connection);
        return;
    }
    connection.record_received(length);
    m_stats.bytes_to_host += length;
}

std::optional<VsockConnectionKey> VsockMuxer::host_connect(uint32_t guest_port, HostConnectDelivery delivery)
{
    bool held = delivery == HostConnectDelivery::Held;
    if (m_connections.size() >= m_limits.max_connections
        || (held && m_held_host_connects.size() >= m_limits.max_held_host_connects)) {
        ++m_stats.connections_refused;
        return std::nullopt;
    }
    // At most max_connections keys are taken, so this finds a free port within that many steps.
    for (size_t attempt = 0; attempt <= m_limits.max_connections; ++attempt) {
        VsockConnectionKey key { guest_port, m_next_host_port };
        // Stay in [first_ephemeral, UINT32_MAX): U32_MAX is VMADDR_PORT_ANY to Linux.
        m_next_host_port = m_next_host_port + 1 == UINT32_MAX ? vsock_first_ephemeral_host_port : m_next_host_port + 1;
        if (m_connections.contains(key))
            continue;
        auto& connection = m_connections.try_emplace(key, key, VsockConnectionState::ConnectingToGuest).first->second;
        connection.add_pending(vsock::pending::request);
        if (held) {
            connection.set_held(true);
            m_held_host_connects.push_back(key);
        }
        schedule(connection);
        return key;
    }
    ++m_stats.connections_refused;
    return std::nullopt;
}

void VsockMuxer::release_held_host_connects()
{
    auto held = std::move(m_held_host_connects);
    m_held_host_connects.clear();
    for (auto key : held) {
        if (auto* connection = find_mutable(key)) {
            connection->set_held(false);
            schedule(*connection);
        }
    }
}

void VsockMuxer::host_connect_result(VsockConnectionKey key, VsockOpenOutcome outcome)
{
    auto* connection = find_mutable(key);
    if (!connection || connection->state() != VsockConnectionState::ConnectingToHost)
        return;
    if (outcome == VsockOpenOutcome::Connected) {
        connection->set_state(VsockConnectionState::Established);
        connection->add_pending(vsock::pending::response);
        schedule(*connection);
    } else if (outcome == VsockOpenOutcome::Refused) {
        connection->set_backend_closed();
        reset_connection(*connection);
    }
}

void VsockMuxer::host_readable(VsockConnectionKey key)
{
    auto* connection = find_mutable(key);
    if (!connection)
        return;
    connection->set_host_readable(true);
    schedule(*connection);
}

void VsockMuxer::host_consumed(VsockConnectionKey key, uint32_t bytes)
{
    auto* connection = find_mutable(key);
    if (!connection || connection->state() == VsockConnectionState::Closing)
        return;
    if (connection->record_consumed(bytes))
        connection->add_pending(vsock::pending::credit_update);
    finish_if_done(*connection);
    schedule(*connection);
}

void VsockMuxer::host_reset(VsockConnectionKey key)
{
    auto* connection = find_mutable(key);
    if (!connection)
        return;
    if (connection->held()) {
        remove(key); // the client left before the guest heard of it: nothing to tell the guest
        return;
    }
    connection->set_backend_closed();
    reset_connection(*connection);
}

void VsockMuxer::reset_connection(VsockConnection& connection)
{
    if (!connection.backend_closed()) {
        m_backend.close(connection.key());
        connection.set_backend_closed();
    }
    connection.set_state(VsockConnectionState::Closing);
    schedule(connection);
}

void VsockMuxer::finish_if_done(VsockConnection& connection)
{
    if (connection.state() == VsockConnectionState::Established && connection.is_finished())
        reset_connection(connection);
}

void VsockMuxer::queue_orphan_reset(uint32_t guest_port, uint32_t host_port)
{
    if (m_orphan_resets.size() >= m_limits.max_orphan_resets) {
        ++m_stats.resets_dropped;
        return;
    }
    m_orphan_resets.push_back({ guest_port, host_port });
}

void VsockMuxer::schedule(VsockConnection& connection)
{
    if (connection.held() || connection.in_rx_queue() || !connection.wants_rx())
        return;
    connection.set_in_rx_queue(true);
    m_rx_queue.push_back(connection.key());
}

void VsockMuxer::remove(VsockConnectionKey key)
{
    auto found = m_connections.find(key);
    if (found == m_connections.end())
        return;
    if (found->second.held())
        std::erase(m_held_host_connects, key);
    // Keep the RX queue free of dead keys, so create-and-reset loops cannot grow it.
    if (found->second.in_rx_queue()) {
        auto queued = std::find(m_rx_queue.begin(), m_rx_queue.end(), key);
        if (queued != m_rx_queue.end())
            m_rx_queue.erase(queued);
    }
    m_connections.erase(found);
}

void VsockMuxer::reset()
{
    for (auto key : detach_all())
        m_backend.close(key);
    for (auto key : m_held_host_connects)
        m_backend.close(key);
    m_held_host_connects.clear();
    m_connections.clear();
}

std::vector<VsockConnectionKey> VsockMuxer::detach_all()
{
    std::vector<VsockConnectionKey> open;
    std::erase_if(m_connections, [&open](auto const& entry) {
        auto const& [key, connection] = entry;
        if (connection.held())
            return false;
        if (!connection.backend_closed())
            open.push_back(key);
        return true;
    });
    m_rx_queue.clear();
    m_orphan_resets.clear();
    return open;
}

} // namespace husk
