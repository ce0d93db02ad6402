// UnixVsockBackend: the VsockBackend methods and the stream I/O behind them. Host bytes are read
// ahead into a stream's receive buffer and handed out by read(); guest bytes queue in `outgoing`
// and go out one send at a time, each completion reporting the guest's bytes as consumed.
#include "runtime/base/log.hpp"
#include "runtime/vsock/connect_line.hpp"
#include "runtime/vsock/unix_vsock_backend.hpp"
#include "virtio/vsock/connection.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>

namespace husk {

UnixVsockBackend::StreamPointer UnixVsockBackend::find(VsockConnectionKey key) const
{
    auto found = m_streams.find(key);
    return found == m_streams.end() ? nullptr : found->second;
}

VsockOpenOutcome UnixVsockBackend::open_stream(VsockConnectionKey key)
{
    if (stream_count() >= m_limits.max_streams || m_streams.contains(key))
        return VsockOpenOutcome::Refused;
    if (m_connect_base.empty()) {
        log_debug("vsock backend: guest connect to host port " + std::to_string(key.host_port)
            + " refused: no host path for guest connections (the socket is outside the jail)");
        return VsockOpenOutcome::Refused;
    }
    auto path = m_connect_base + "_" + std::to_string(key.host_port);
    auto socket = connect_unix_socket(path);
    if (!socket) {
        log_debug("vsock backend: guest connect to host port " + std::to_string(key.host_port) + ": "
            + socket.error().message);
        return VsockOpenOutcome::Refused;
    }
    auto stream = adopt_socket(std::move(*socket), HostStream::Phase::Open);
    if (!stream) {
        log_warn("vsock backend: guest connect to host port " + std::to_string(key.host_port) + ": "
            + stream.error().message);
        return VsockOpenOutcome::Refused;
    }
    (*stream)->key = key;
    m_streams.emplace(key, *stream);
    auto armed = arm_receive(*stream);
    if (!armed) {
        log_warn("vsock backend: " + armed.error().message);
        drop(*stream);
        return VsockOpenOutcome::Refused;
    }
    return VsockOpenOutcome::Connected;
}

void UnixVsockBackend::accept_stream(VsockConnectionKey key)
{
    auto stream = find(key);
    if (!stream || stream->phase != HostStream::Phase::AwaitingGuest)
        return;
    stream->phase = HostStream::Phase::Open;
    // No receive is in flight while awaiting the guest, so the buffer may move now.
    stream->receive_buffer.resize(host_stream_receive_buffer);
    auto line = format_ok_line(key.host_port);
    stream->outgoing.insert(stream->outgoing.begin(), line.begin(), line.end());
    stream->unreported_bytes += line.size();
    auto sent = kick_send(stream);
    if (sent && stream->buffered_for_guest() == 0)
        sent = arm_receive(stream);
    if (!sent) {
        // Cannot fail from here (the device holds its lock): end the stream for the guest.
        log_error("vsock backend: " + sent.error().message);
        stream->end_of_stream = true;
        stream->announce_readable = true;
    }
}

Result<void> UnixVsockBackend::write(VsockConnectionKey key, std::span<uint8_t const> data)
{
    auto stream = find(key);
    if (!stream || stream->phase != HostStream::Phase::Open)
        return fail("vsock stream to host port " + std::to_string(key.host_port) + " is gone");
    if (stream->shutdown_write_requested)
        return fail("vsock stream to host port " + std::to_string(key.host_port) + " was shut for writing");
    // The device keeps within the credit it gave the guest; this is the backstop if it did not.
    if (stream->queued_for_host() - stream->unreported_bytes + data.size() > vsock_buffer_size)
        return fail("vsock stream to host port " + std::to_string(key.host_port) + " would buffer more than "
            + std::to_string(vsock_buffer_size) + " bytes");
    stream->outgoing.insert(stream->outgoing.end(), data.begin(), data.end());
    return kick_send(stream);
}

VsockReadResult UnixVsockBackend::read(VsockConnectionKey key, std::span<uint8_t> destination)
{
    auto stream = find(key);
    if (!stream || stream->phase != HostStream::Phase::Open)
        return {};
    size_t count = std::min(destination.size(), stream->buffered_for_guest());
    std::copy_n(
        stream->receive_buffer.begin() + static_cast<ptrdiff_t>(stream->receive_begin), count, destination.begin());
    stream->receive_begin += count;
    // Read the host socket again while the guest still drains what is buffered, not only once it
    // has taken everything: the next receive overlaps the guest's consumption of this one. The
    // offsets move only with no receive in flight (it writes at the receive_end it was given).
    if (!stream->end_of_stream && !stream->receive_operation) {
        make_receive_room(*stream);
        if (stream->receive_end < stream->receive_buffer.size()) {
            auto armed = arm_receive(stream);
            if (!armed) {
                log_error("vsock backend: " + armed.error().message);
                stream->end_of_stream = true; // cannot report a failure from here: end the stream
            }
        }
    }
    return { count, stream->end_of_stream && stream->buffered_for_guest() == 0 };
}

void UnixVsockBackend::shutdown_write(VsockConnectionKey key)
{
    auto stream = find(key);
    if (!stream)
        return;
    stream->shutdown_write_requested = true;
    shut_write_if_flushed(*stream);
}

void UnixVsockBackend::close(VsockConnectionKey key)
{
    if (auto stream = find(key))
        drop(stream);
}

bool UnixVsockBackend::has_unsent_guest_data() const
{
    return std::any_of(m_streams.begin(), m_streams.end(), [](auto const& entry) {
        auto const& stream = *entry.second;
        return stream.send_operation || stream.queued_for_host() > 0;
    });
}

void UnixVsockBackend::make_receive_room(HostStream& stream)
{
    // Only with no receive in flight: the kernel writes at the receive_end it was given.
    if (stream.receive_operation || stream.receive_begin == 0)
        return;
    std::memmove(stream.receive_buffer.data(), stream.receive_buffer.data() + stream.receive_begin,
        stream.buffered_for_guest());
    stream.receive_end -= stream.receive_begin;
    stream.receive_begin = 0;
}

Result<void> UnixVsockBackend::arm_receive(StreamPointer const& stream)
{
    auto room = std::span(stream->receive_buffer).subspan(stream->receive_end);
    auto operation = TRY(m_loop.recv(stream->file, room, 0, [stream](int result) {
        if (stream->owner)
            stream->owner->on_receive(stream, result);
    }));
    stream->receive_operation = operation;
    return {};
}

void UnixVsockBackend::on_receive(StreamPointer const& stream, int result)
{
    stream->receive_operation.reset();
    if (result == -ECANCELED)
        return;
    if (result < 0) {
        log_debug(std::string("vsock backend: host stream receive: ") + std::strerror(-result));
        fail_stream(stream);
        return;
    }
    if (result == 0)
        stream->end_of_stream = true;
    else
        stream->receive_end += static_cast<size_t>(result);
    // An open stream keeps a receive armed while its buffer has room, so the socket is drained
    // as fast as the guest's buffers allow rather than one buffer per guest round trip.
    if (result > 0 && stream->phase == HostStream::Phase::Open) {
        make_receive_room(*stream);
    }
    if (result > 0 && stream->phase == HostStream::Phase::Open && stream->receive_end < stream->receive_buffer.size()) {
        if (auto armed = arm_receive(stream); !armed) {
            log_error("vsock backend: " + armed.error().message);
            stream->end_of_stream = true;
        }
    }
    if (m_events)
        m_events->on_host_readable(stream->key);
}

Result<void> UnixVsockBackend::kick_send(StreamPointer const& stream)
{
    if (stream->send_operation)
        return {}; // the completion sends the rest
    if (stream->send_offset == stream->sending.size()) {
        stream->sending.clear();
        stream->send_offset = 0;
        if (stream->outgoing.empty()) {
            shut_write_if_flushed(*stream);
            return {};
        }
        std::swap(stream->sending, stream->outgoing);
    }
    auto remaining = std::span<uint8_t const>(stream->sending).subspan(stream->send_offset);
    // MSG_NOSIGNAL: a host client that went away must show up as EPIPE, not kill the VMM.
    auto operation = TRY(m_loop.send(stream->file, remaining, MSG_NOSIGNAL, [stream](int result) {
        if (stream->owner)
            stream->owner->on_send(stream, result);
    }));
    stream->send_operation = operation;
    return {};
}

void UnixVsockBackend::on_send(StreamPointer const& stream, int result)
{
    stream->send_operation.reset();
    if (result == -ECANCELED)
        return;
    if (result <= 0) {
        log_debug(std::string("vsock backend: host stream send: ") + std::strerror(result == 0 ? EPIPE : -result));
        fail_stream(stream);
        return;
    }
    auto sent = static_cast<size_t>(result);
    stream->send_offset += sent;
    size_t ours = std::min(sent, stream->unreported_bytes);
    stream->unreported_bytes -= ours;
    auto consumed = static_cast<uint32_t>(sent - ours);

    auto more = kick_send(stream);
    if (!more) {
        log_warn("vsock backend: " + more.error().message);
        fail_stream(stream);
        return;
    }
    // Upcalls last: the device may close the stream from inside them.
    auto key = stream->key;
    if (stream->announce_readable && stream->phase == HostStream::Phase::Open) {
        stream->announce_readable = false;
        if (m_events)
            m_events->on_host_readable(key);
    }
    if (consumed > 0 && stream->owner && m_events)
        m_events->on_host_consumed(key, consumed);
}

void UnixVsockBackend::shut_write_if_flushed(HostStream& stream)
{
    if (!stream.shutdown_write_requested || stream.write_shut || stream.send_operation || stream.queued_for_host() > 0)
        return;
    stream.write_shut = true;
    // The host client reads EOF; the guest may still receive what the client sends back.
    if (::shutdown(stream.fd.get(), SHUT_WR) != 0)
        log_debug(std::string("vsock backend: shutdown(SHUT_WR): ") + std::strerror(errno));
}

void UnixVsockBackend::drop(StreamPointer const& stream)
{
    if (!stream->owner)
        return;
    stream->owner = nullptr;
    m_handshakes.erase(stream.get());
    if (stream->phase != HostStream::Phase::Handshake) {
        auto found = m_streams.find(stream->key);
        if (found != m_streams.end() && found->second == stream)
            m_streams.erase(found);
    }
    // Cancelled operations still complete once; their completions see owner == nullptr and hold
    // the stream (and so its buffers) until the kernel is done with them.
    for (auto* operation : { &stream->receive_operation, &stream->send_operation, &stream->handshake_timer }) {
        if (*operation)
            (void)m_loop.cancel(**operation);
    }
    // Closing our fd is not enough for the peer to see the end: io_uring releases an unregistered
    // file only once every request submitted before the unregistration has finished (6.1
    // io_rsrc_node_ref_zero recycles nodes in order), and the loop keeps long-lived ones (the
    // accept, queue-kick polls). shutdown() acts on the socket itself, at once.
    (void)::shutdown(stream->fd.get(), SHUT_RDWR);
    auto unregistered = m_loop.unregister_file(stream->file);
    if (!unregistered)
        log_warn("vsock backend: " + unregistered.error().message);
    stream->fd.reset();
}

void UnixVsockBackend::fail_stream(StreamPointer const& stream)
{
    bool device_knows = stream->phase != HostStream::Phase::Handshake;
    auto key = stream->key;
    drop(stream);
    if (device_knows && m_events)
        m_events->on_host_reset(key);
}

} // namespace husk
