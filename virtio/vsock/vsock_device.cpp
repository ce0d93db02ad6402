// VsockDevice: queue processing and the bridge from backend events to the muxer.
#include "virtio/vsock/vsock_device.hpp"

#include "runtime/base/log.hpp"
#include "virtio/queue/chain_io.hpp"

#include <algorithm>

namespace husk {

VsockDevice::VsockDevice(uint64_t guest_cid, VsockBackend& backend, VsockMuxerLimits limits)
    : m_guest_cid(guest_cid)
    , m_backend(backend)
    , m_muxer(guest_cid, backend, limits)
    , m_tx_payload(vsock::max_packet_payload)
{
    m_backend.set_events(this);
}

VsockDevice::~VsockDevice()
{
    m_backend.set_events(nullptr);
    std::lock_guard guard(m_mutex);
    close_detached_host_ends();
    m_muxer.reset(); // closes every host end still open
}

void VsockDevice::read_config(uint64_t offset, std::span<uint8_t> data) const
{
    vsock::Config config { m_guest_cid };
    copy_config(std::span(reinterpret_cast<uint8_t const*>(&config), sizeof config), offset, data);
}

Result<void> VsockDevice::activate(
    GuestMemory& memory, std::span<SplitQueue> queues, VirtioInterrupt& interrupt, uint64_t)
{
    if (queues.size() != queue_count())
        return fail("virtio-vsock expects 3 queues, got " + std::to_string(queues.size()));
    std::lock_guard guard(m_mutex);
    m_memory = &memory;
    m_rx = &queues[rx_queue];
    m_tx = &queues[tx_queue];
    m_event = &queues[event_queue];
    m_interrupt = &interrupt;
    return {};
}

void VsockDevice::reset()
{
    std::lock_guard guard(m_mutex);
    // The guest's driver is gone and its sockets with it, so every host end must close. This runs
    // on a vCPU thread, where the backend must not be called: the event thread closes them.
    auto detached = m_muxer.detach_all();
    m_detached_host_ends.insert(m_detached_host_ends.end(), detached.begin(), detached.end());
    m_held_rx_chain.reset();
    m_memory = nullptr;
    m_rx = nullptr;
    m_tx = nullptr;
    m_event = nullptr;
    m_interrupt = nullptr;
    m_transport_reset_pending = false;
    // Held connects stay held (the muxer keeps them): the next driver gets them, unless only the
    // transport reset held them, which is now moot.
    release_held_host_connects_when_free();
}

void VsockDevice::close_detached_host_ends()
{
    for (auto key : m_detached_host_ends)
        m_backend.close(key);
    m_detached_host_ends.clear();
}

void VsockDevice::queue_notify(uint16_t index)
{
    std::lock_guard guard(m_mutex);
    // Any kick may end the transport-reset wait; the event queue's is the one after_restore()
    // asked for. Connects held since the restore then reach the guest.
    bool was_waiting_for_reset = m_transport_reset_pending;
    note_transport_reset_handled();
    bool reset_just_handled = was_waiting_for_reset && !m_transport_reset_pending;
    release_held_host_connects_when_free();
    close_detached_host_ends();
    if (!is_active())
        return;
    if (index == event_queue) {
        if (reset_just_handled)
            process_rx();
        return;
    }
    if (index == tx_queue)
        process_tx(); // replies are produced below
    // rx: new buffers; tx: maybe new replies.
    if (index == rx_queue || index == tx_queue)
        process_rx();
}

void VsockDevice::note_transport_reset_handled()
{
    // The guest posts the event buffer back once it has handled the event: after a restore, from
    // then on its sockets are reset and new connections are safe. Other kicks (the VMM serves
    // every queue once at start) leave the index where it was. Looked at on a kick and again when
    // the host connects: with EVENT_IDX the driver kicks only when avail_event asks it to, and the
    // event queue is never drained, so that kick may not come.
    if (m_transport_reset_pending && is_active() && m_event->driver_available_index() != m_event_available_at_reset)
        m_transport_reset_pending = false;
}

HostConnectHold VsockDevice::current_hold() const
{
    if (m_transport_reset_pending)
        return HostConnectHold::TransportReset;
    if (m_holding_for_agent)
        return HostConnectHold::AgentNotListening;
    return HostConnectHold::None;
}

HostConnectHold VsockDevice::host_connect_hold() const
{
    std::lock_guard guard(m_mutex);
    return current_hold();
}

void VsockDevice::release_held_host_connects_when_free()
{
    if (current_hold() == HostConnectHold::None && m_muxer.held_host_connect_count() > 0)
        m_muxer.release_held_host_connects();
}

void VsockDevice::hold_host_connects_until_agent_listens()
{
    std::lock_guard guard(m_mutex);
    m_holding_for_agent = true;
}

void VsockDevice::end_agent_hold(AgentHoldEnd why)
{
    std::lock_guard guard(m_mutex);
    close_detached_host_ends();
    if (!m_holding_for_agent)
        return;
    m_holding_for_agent = false;
    ++(why == AgentHoldEnd::AgentListening ? m_stats.agent_holds_ended_by_agent : m_stats.agent_holds_timed_out);
    release_held_host_connects_when_free();
    if (is_active())
        process_rx();
}

void VsockDevice::process_tx()
{
    if (!m_tx->is_ready() || m_tx->is_broken())
        return;
    QueueBatch batch(*m_tx, *m_interrupt, "virtio-vsock: tx queue");
    while (auto chain = batch.next()) {
        auto packet = read_tx_packet(*m_memory, *chain, m_tx_payload);
        switch (packet.error) {
        case VsockPacketError::None:
            ++m_stats.tx_packets;
            m_muxer.handle_guest_packet(packet.header, packet.payload);
            break;
        case VsockPacketError::PayloadBeyondChain:
        case VsockPacketError::PayloadTooLarge:
            ++m_stats.tx_malformed;
            m_muxer.handle_malformed_packet(packet.header); // the header names the connection
            break;
        default:
            ++m_stats.tx_malformed; // nothing trustworthy to answer
            break;
        }
        // TX buffers are device-readable: the device writes nothing back.
        batch.complete(chain->head(), 0);
    }
    m_stats.chain_faults += batch.chain_faults();
}

std::optional<DescriptorChain> VsockDevice::next_rx_chain(QueueBatch& batch)
{
    if (m_held_rx_chain) {
        auto chain = std::move(m_held_rx_chain);
        m_held_rx_chain.reset();
        return chain;
    }
    while (auto chain = batch.next()) {
        if (chain->writable_length() >= vsock_header_size)
            return chain;
        ++m_stats.rx_buffers_too_small;
        batch.complete(chain->head(), 0);
    }
    return std::nullopt;
}

void VsockDevice::process_rx()
{
    // Nothing reaches the guest before it has handled the transport reset: a connection request
    // it saw first would be reset with the snapshot's connections.
    if (m_transport_reset_pending || !m_rx->is_ready() || m_rx->is_broken())
        return;
    QueueBatch batch(*m_rx, *m_interrupt, "virtio-vsock: rx queue");
    while (m_muxer.has_pending_rx()) {
        auto chain = next_rx_chain(batch);
        if (!chain)
            break;
        uint64_t room = chain->writable_length() - vsock_header_size;
        auto max_payload = static_cast<uint32_t>(std::min<uint64_t>(room, vsock::max_packet_payload));
        auto packet = m_muxer.pop_rx(max_payload);
        if (!packet) {
            if (max_payload == 0) {
                // A header-only buffer, and only data is waiting: holding it would block every
                // larger buffer behind it. Return it empty (Linux drops short RX buffers).
                ++m_stats.rx_buffers_too_small;
                batch.complete(chain->head(), 0);
                continue;
            }
            m_held_rx_chain = std::move(chain); // nothing to send after all; keep it for later
            break;
        }
        auto written = write_rx_packet(*m_memory, *chain, packet->header, packet->payload);
        if (!written) {
            // Unreachable: the chain's room was checked and SplitQueue validated its buffers.
            log_warn("virtio-vsock: rx: " + written.error().message);
            batch.complete(chain->head(), 0);
        } else {
            ++m_stats.rx_packets;
            batch.complete(chain->head(), *written);
        }
    }
    m_stats.chain_faults += batch.chain_faults();
}

void VsockDevice::prepare_snapshot()
{
    std::lock_guard guard(m_mutex);
    if (!is_active() || !m_held_rx_chain)
        return;
    // A held chain was popped: the saved avail index is past it, so give it back (empty, which
    // Linux drops and replaces) or the restored guest would have lost one RX buffer for good.
    QueueBatch batch(*m_rx, *m_interrupt, "virtio-vsock: rx queue");
    batch.complete(m_held_rx_chain->head(), 0);
    m_held_rx_chain.reset();
}

uint32_t VsockDevice::next_host_port() const
{
    std::lock_guard guard(m_mutex);
    return m_muxer.next_host_port();
}

void VsockDevice::continue_host_ports_from(uint32_t port)
{
    std::lock_guard guard(m_mutex);
    m_muxer.continue_host_ports_from(port);
}

void VsockDevice::after_restore()
{
    std::lock_guard guard(m_mutex);
    m_holding_for_agent = false; // the agent listened before the snapshot
    if (!is_active() || !m_event->is_ready() || m_event->is_broken())
        return;
    QueueBatch batch(*m_event, *m_interrupt, "virtio-vsock: event queue");
    auto chain = batch.next();
    if (!chain) {
        // Linux keeps eight event buffers posted from the probe on; without one the guest keeps
        // its sockets until their peers' resets arrive, which is all it loses.
        log_warn("virtio-vsock: no event buffer for the transport reset after a restore");
        return;
    }
    ChainWriter writer(*m_memory, *chain);
    vsock::Event event { vsock::event_transport_reset };
    if (auto written = writer.write_obj(event); !written) {
        log_warn("virtio-vsock: event buffer too small for the transport reset: " + written.error().message);
        batch.complete(chain->head(), 0);
        return;
    }
    batch.complete(chain->head(), static_cast<uint32_t>(writer.bytes_written()));
    ++m_stats.transport_resets_sent;
    m_transport_reset_pending = true;
    m_event_available_at_reset = m_event->driver_available_index();
    // The guest posts the buffer back once it has handled the event: have it kick then, so held
    // connects go on at once (Linux posts eight event buffers and EVENT_IDX would not ask).
    if (auto asked = m_event->ask_for_notification_at_next_entry(); !asked)
        log_warn("virtio-vsock: event queue: " + asked.error().message);
}

std::optional<VsockConnectionKey> VsockDevice::on_host_connect(uint32_t guest_port)
{
    std::lock_guard guard(m_mutex);
    close_detached_host_ends();
    // Until the guest has handled the transport reset, a new connection could be reset with the
    // old ones; until the agent listens, the guest would refuse it. Either way it is held (its
    // request waits in the muxer) and goes to the guest when the hold ends, instead of being
    // refused and retried. On a cold boot that includes the time before the driver exists.
    note_transport_reset_handled();
    release_held_host_connects_when_free();
    auto hold = current_hold();
    if (!is_active() && hold != HostConnectHold::AgentNotListening)
        return std::nullopt; // no driver to take the connection
    auto key = m_muxer.host_connect(
        guest_port, hold == HostConnectHold::None ? HostConnectDelivery::Now : HostConnectDelivery::Held);
    if (!key && hold != HostConnectHold::None)
        ++m_stats.host_connects_refused_while_holding;
    if (key && hold == HostConnectHold::TransportReset)
        ++m_stats.host_connects_held_for_transport_reset;
    if (key && hold == HostConnectHold::AgentNotListening)
        ++m_stats.host_connects_held_for_agent;
    if (is_active())
        process_rx();
    return key;
}

void VsockDevice::on_host_connect_result(VsockConnectionKey key, VsockOpenOutcome outcome)
{
    std::lock_guard guard(m_mutex);
    close_detached_host_ends();
    if (!is_active())
        return;
    m_muxer.host_connect_result(key, outcome);
    process_rx();
}

void VsockDevice::on_host_readable(VsockConnectionKey key)
{
    std::lock_guard guard(m_mutex);
    close_detached_host_ends();
    // Also without a driver: a held connect's client may send early or leave (the muxer knows
    // no other connection then).
    m_muxer.host_readable(key);
    if (is_active())
        process_rx();
}

void VsockDevice::on_host_consumed(VsockConnectionKey key, uint32_t bytes)
{
    std::lock_guard guard(m_mutex);
    close_detached_host_ends();
    if (!is_active())
        return;
    m_muxer.host_consumed(key, bytes);
    process_rx();
}

void VsockDevice::on_host_reset(VsockConnectionKey key)
{
    std::lock_guard guard(m_mutex);
    close_detached_host_ends();
    m_muxer.host_reset(key); // also without a driver, as on_host_readable
    if (is_active())
        process_rx();
}

VsockDeviceStats VsockDevice::stats() const
{
    std::lock_guard guard(m_mutex);
    return m_stats;
}

VsockMuxerStats VsockDevice::muxer_stats() const
{
    std::lock_guard guard(m_mutex);
    return m_muxer.stats();
}

size_t VsockDevice::connection_count() const
{
    std::lock_guard guard(m_mutex);
    return m_muxer.connection_count();
}

} // namespace husk
