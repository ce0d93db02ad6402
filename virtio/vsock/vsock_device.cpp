// VsockDevice: queue processing and the bridge from backend events to the muxer.
#include "virtio/vsock/vsock_device.hpp"

#include "runtime/base/log.hpp"

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
    m_interrupt = nullptr;
}

void VsockDevice::close_detached_host_ends()
{
    for (auto key : m_detached_host_ends)
        m_backend.close(key);
    m_detached_host_ends.clear();
}

void VsockDevice::queue_notify(uint16_t index)
{
    if (index == event_queue)
        return; // its buffers simply stay posted; and this kick may come from any thread
    std::lock_guard guard(m_mutex);
    close_detached_host_ends();
    if (!is_active())
        return;
    if (index == tx_queue)
        process_tx(); // replies are produced below
    // rx: new buffers; tx: maybe new replies.
    if (index == rx_queue || index == tx_queue)
        process_rx();
}

void VsockDevice::complete(SplitQueue& queue, uint16_t head, uint32_t length)
{
    if (!queue.add_used(head, length))
        m_interrupt->signal_needs_reset(); // unreachable: the used ring was checked at activation
}

void VsockDevice::process_tx()
{
    if (!m_tx->is_ready() || m_tx->is_broken())
        return;
    bool completed_any = false;
    for (;;) {
        auto popped = m_tx->pop();
        if (popped.is_empty())
            break;
        if (popped.has_error()) {
            auto const& error = popped.error();
            if (error.is_fatal()) {
                log_warn("virtio-vsock: tx queue: " + error.message() + "; device needs reset");
                m_interrupt->signal_needs_reset();
                break;
            }
            ++m_stats.chain_faults;
            complete(*m_tx, *error.head, 0);
            completed_any = true;
            continue;
        }
        auto& chain = popped.chain();
        auto packet = read_tx_packet(*m_memory, chain, m_tx_payload);
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
        complete(*m_tx, chain.head(), 0);
        completed_any = true;
    }
    if (completed_any && m_tx->needs_notification())
        m_interrupt->signal_used_buffer();
}

std::optional<DescriptorChain> VsockDevice::next_rx_chain(bool& completed_any)
{
    if (m_held_rx_chain) {
        auto chain = std::move(m_held_rx_chain);
        m_held_rx_chain.reset();
        return chain;
    }
    for (;;) {
        auto popped = m_rx->pop();
        if (popped.is_empty())
            return std::nullopt;
        if (popped.has_error()) {
            auto const& error = popped.error();
            if (error.is_fatal()) {
                log_warn("virtio-vsock: rx queue: " + error.message() + "; device needs reset");
                m_interrupt->signal_needs_reset();
                return std::nullopt;
            }
            ++m_stats.chain_faults;
            complete(*m_rx, *error.head, 0);
            completed_any = true;
            continue;
        }
        auto& chain = popped.chain();
        if (chain.writable_length() < vsock_header_size) {
            ++m_stats.rx_buffers_too_small;
            complete(*m_rx, chain.head(), 0);
            completed_any = true;
            continue;
        }
        return std::move(chain);
    }
}

void VsockDevice::process_rx()
{
    if (!m_rx->is_ready() || m_rx->is_broken())
        return;
    bool completed_any = false;
    while (m_muxer.has_pending_rx()) {
        auto chain = next_rx_chain(completed_any);
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
                complete(*m_rx, chain->head(), 0);
                completed_any = true;
                continue;
            }
            m_held_rx_chain = std::move(chain); // nothing to send after all; keep it for later
            break;
        }
        auto written = write_rx_packet(*m_memory, *chain, packet->header, packet->payload);
        if (!written) {
            // Unreachable: the chain's room was checked and SplitQueue validated its buffers.
            log_warn("virtio-vsock: rx: " + written.error().message);
            complete(*m_rx, chain->head(), 0);
        } else {
            ++m_stats.rx_packets;
            complete(*m_rx, chain->head(), *written);
        }
        completed_any = true;
    }
    if (completed_any && m_rx->needs_notification())
        m_interrupt->signal_used_buffer();
}

std::optional<VsockConnectionKey> VsockDevice::on_host_connect(uint32_t guest_port)
{
    std::lock_guard guard(m_mutex);
    close_detached_host_ends();
    if (!is_active())
        return std::nullopt; // no driver to take the connection
    auto key = m_muxer.host_connect(guest_port);
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
    if (!is_active())
        return;
    m_muxer.host_readable(key);
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
    if (!is_active())
        return;
    m_muxer.host_reset(key);
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
