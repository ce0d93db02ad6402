// VsockConnection: credit arithmetic and the readiness predicates the muxer schedules by.
#include "virtio/vsock/connection.hpp"

namespace husk {

char const* to_string(VsockConnectionState state)
{
    switch (state) {
    case VsockConnectionState::ConnectingToGuest:
        return "connecting to guest";
    case VsockConnectionState::ConnectingToHost:
        return "connecting to host";
    case VsockConnectionState::Established:
        return "established";
    case VsockConnectionState::Closing:
        return "closing";
    }
    return "unknown";
}

bool VsockConnection::update_peer_credit(VsockPacketHeader const& header)
{
    bool had_credit = guest_credit() > 0;
    m_peer_buf_alloc = header.buf_alloc;
    m_peer_fwd_count = header.fwd_cnt;
    bool has_credit = guest_credit() > 0;
    if (has_credit)
        m_credit_requested = false;
    return has_credit && !had_credit;
}

bool VsockConnection::fits_our_buffer(uint32_t length) const
{
    // 64-bit: unconsumed() ≤ vsock_buffer_size, length ≤ 4 GiB, so the sum cannot wrap.
    return uint64_t { unconsumed() } + length <= vsock_buffer_size;
}

bool VsockConnection::record_consumed(uint32_t bytes)
{
    // A backend never reports more than it was given; clamp so a bug there cannot make fwd_cnt
    // run ahead of what the guest sent (which would hand the guest extra credit).
    if (bytes > unconsumed())
        bytes = unconsumed();
    m_fwd_count += bytes;
    return m_fwd_count - m_advertised_fwd_count >= vsock_credit_update_threshold;
}

uint32_t VsockConnection::guest_credit() const
{
    // Wrapping difference: the guest's fwd_cnt trails our tx_cnt. A guest that claims to have
    // consumed more than we sent makes this huge, and so gets no credit rather than extra.
    uint32_t in_flight = m_tx_count - m_peer_fwd_count;
    if (in_flight >= m_peer_buf_alloc)
        return 0;
    return m_peer_buf_alloc - in_flight;
}

uint32_t VsockConnection::add_guest_shutdown(uint32_t flags)
{
    uint32_t added = flags & vsock::shutdown_both & ~m_guest_shutdown;
    m_guest_shutdown |= added;
    return added;
}

bool VsockConnection::is_finished() const
{
    bool guest_done = (m_guest_shutdown & vsock::shutdown_send) && unconsumed() == 0;
    bool host_done = (m_host_shutdown & vsock::shutdown_send) || (m_guest_shutdown & vsock::shutdown_receive);
    return guest_done && host_done;
}

bool VsockConnection::can_send_data() const
{
    return m_state == VsockConnectionState::Established && m_host_readable && !m_host_eof
        && !(m_guest_shutdown & vsock::shutdown_receive);
}

bool VsockConnection::wants_rx() const
{
    if (m_state == VsockConnectionState::Closing)
        return true;
    if (m_pending & (vsock::pending::request | vsock::pending::response))
        return true;
    if (m_state != VsockConnectionState::Established)
        return false;
    if (m_pending != 0)
        return true;
    // Data the guest has room for, or a stall worth one CREDIT_REQUEST.
    return can_send_data() && (guest_credit() > 0 || !m_credit_requested);
}

} // namespace husk
