// UnixVsockBackend: set-up, teardown, the listener and the CONNECT handshake of host-initiated
// streams. Stream I/O (receive, send, VsockBackend methods) is in unix_vsock_backend_io.cpp.
#include "runtime/vsock/unix_vsock_backend.hpp"

#include "runtime/base/log.hpp"
#include "runtime/vsock/connect_line.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace husk {

namespace {
    // How long to wait before accepting again after the process ran out of descriptors or memory,
    // so a full fd table does not turn the accept loop into a busy loop.
    constexpr auto accept_retry_delay = std::chrono::milliseconds(100);
    // "_4294967295": the longest suffix a guest-initiated connect appends to uds_path.
    constexpr size_t port_suffix_length = 11;
} // namespace

std::vector<IoOpcode> UnixVsockBackend::required_opcodes()
{
    return { IoOpcode::Accept, IoOpcode::Recv, IoOpcode::Send, IoOpcode::Timeout, IoOpcode::Cancel };
}

Result<std::unique_ptr<UnixVsockBackend>> UnixVsockBackend::create(
    EventLoop& loop, std::string uds_path, UnixVsockBackendLimits limits, std::optional<std::string> connect_base)
{
    if (connect_base && connect_base->size() + port_suffix_length > max_unix_socket_path())
        return fail("vsock guest connect path \"" + *connect_base + "\" is too long");
    if (uds_path.size() + port_suffix_length > max_unix_socket_path())
        return fail("vsock uds_path \"" + uds_path + "\" is too long: `<uds_path>_<port>` must fit in "
            + std::to_string(max_unix_socket_path()) + " bytes");
    auto listener = TRY_CONTEXT(listen_unix_socket(uds_path, limits.listen_backlog), "vsock backend");
    std::unique_ptr<UnixVsockBackend> backend(
        new UnixVsockBackend(loop, std::move(uds_path), limits, std::move(listener)));
    backend->m_connect_base = connect_base.value_or(backend->m_path);
    TRY_CONTEXT(backend->start_accepting(), "vsock backend"); // on failure the destructor cleans up
    return backend;
}

UnixVsockBackend::UnixVsockBackend(
    EventLoop& loop, std::string path, UnixVsockBackendLimits limits, UnixListener listener)
    : m_loop(loop)
    , m_path(std::move(path))
    , m_limits(limits)
    , m_listener(std::move(listener))
    , m_anchor(std::make_shared<Anchor>(Anchor { this }))
{
}

UnixVsockBackend::~UnixVsockBackend()
{
    m_anchor->backend = nullptr;
    std::vector<StreamPointer> streams;
    for (auto const& [key, stream] : m_streams)
        streams.push_back(stream);
    for (auto const& [pointer, stream] : m_handshakes)
        streams.push_back(stream);
    for (auto const& stream : streams)
        drop(stream);
    if (m_accept_operation)
        (void)m_loop.cancel(*m_accept_operation);
    if (m_listener_registered) {
        auto unregistered = m_loop.unregister_file(m_listener_file);
        if (!unregistered)
            log_warn("vsock backend: " + unregistered.error().message);
    }
    m_listener.fd.reset();
    remove_unix_socket(m_path, m_listener.identity);
}

Result<void> UnixVsockBackend::start_accepting()
{
    m_listener_file = TRY(m_loop.register_file(m_listener.fd.get()));
    m_listener_registered = true;
    return arm_accept();
}

Result<void> UnixVsockBackend::arm_accept()
{
    auto anchor = m_anchor;
    auto operation = TRY(m_loop.accept(m_listener_file, [anchor](int result) {
        if (anchor->backend)
            anchor->backend->on_accept(result);
        else if (result >= 0)
            Fd discarded(result); // accepted after the backend went away: close it
    }));
    m_accept_operation = operation;
    return {};
}

void UnixVsockBackend::retry_accept_later()
{
    auto anchor = m_anchor;
    auto timer = m_loop.timeout(accept_retry_delay, [anchor](int result) {
        if (!anchor->backend || result != 0)
            return;
        auto armed = anchor->backend->arm_accept();
        if (!armed)
            log_error("vsock backend: no longer accepting host connections: " + armed.error().message);
    });
    if (!timer)
        log_error("vsock backend: no longer accepting host connections: " + timer.error().message);
}

void UnixVsockBackend::on_accept(int result)
{
    m_accept_operation.reset();
    if (result == -ECANCELED)
        return;
    if (result < 0) {
        log_warn(std::string("vsock backend: accept on \"") + m_path + "\": " + std::strerror(-result));
        if (result == -EMFILE || result == -ENFILE || result == -ENOBUFS || result == -ENOMEM) {
            retry_accept_later();
            return;
        }
    } else {
        Fd client(result);
        if (stream_count() >= m_limits.max_streams) {
            log_warn("vsock backend: " + std::to_string(stream_count()) + " host streams open; refusing a client");
        } else if (auto stream = adopt_socket(std::move(client), HostStream::Phase::Handshake); !stream) {
            log_warn("vsock backend: refusing a client: " + stream.error().message);
        } else {
            m_handshakes.emplace(stream->get(), *stream);
            arm_handshake_receive(*stream);
            if ((*stream)->owner) {
                auto timer = m_loop.timeout(m_limits.handshake_timeout, [stream = *stream](int timed_out) {
                    if (stream->owner)
                        stream->owner->on_handshake_timeout(stream, timed_out);
                });
                if (timer)
                    (*stream)->handshake_timer = *timer;
                else
                    drop(*stream);
            }
        }
    }
    auto armed = arm_accept();
    if (!armed)
        log_error("vsock backend: no longer accepting host connections: " + armed.error().message);
}

Result<UnixVsockBackend::StreamPointer> UnixVsockBackend::adopt_socket(Fd fd, HostStream::Phase phase)
{
    auto file = TRY(m_loop.register_file(fd.get()));
    auto stream = std::make_shared<HostStream>();
    stream->owner = this;
    stream->fd = std::move(fd);
    stream->file = file;
    stream->phase = phase;
    stream->receive_buffer.resize(
        phase == HostStream::Phase::Handshake ? max_connect_line : host_stream_receive_buffer);
    return stream;
}

void UnixVsockBackend::arm_handshake_receive(StreamPointer const& stream)
{
    auto room = std::span(stream->receive_buffer).subspan(stream->receive_end);
    auto operation = m_loop.recv(stream->file, room, 0, [stream](int result) {
        if (stream->owner)
            stream->owner->on_handshake_receive(stream, result);
    });
    if (!operation) {
        log_warn("vsock backend: " + operation.error().message);
        drop(stream);
        return;
    }
    stream->receive_operation = *operation;
}

void UnixVsockBackend::on_handshake_receive(StreamPointer const& stream, int result)
{
    stream->receive_operation.reset();
    if (result <= 0) {
        drop(stream); // the client left (or failed) before finishing its CONNECT line
        return;
    }
    stream->receive_end += static_cast<size_t>(result);
    auto begin = stream->receive_buffer.begin();
    auto newline = std::find(begin, begin + static_cast<ptrdiff_t>(stream->receive_end), '\n');
    if (newline != begin + static_cast<ptrdiff_t>(stream->receive_end)) {
        finish_handshake(stream, static_cast<size_t>(newline - begin) + 1);
        return;
    }
    if (stream->receive_end >= max_connect_line) {
        log_info("vsock backend: refusing a host client: no newline in its first " + std::to_string(max_connect_line)
            + " bytes");
        drop(stream);
        return;
    }
    arm_handshake_receive(stream);
}

void UnixVsockBackend::finish_handshake(StreamPointer const& stream, size_t line_length)
{
    std::string_view line(reinterpret_cast<char const*>(stream->receive_buffer.data()), line_length);
    auto port = parse_connect_line(line);
    if (!port) {
        log_info("vsock backend: refusing a host client: " + port.error().message);
        drop(stream);
        return;
    }
    if (stream->handshake_timer) {
        (void)m_loop.cancel(*stream->handshake_timer);
        stream->handshake_timer.reset();
    }
    m_handshakes.erase(stream.get());
    auto key = m_events ? m_events->on_host_connect(*port) : std::nullopt;
    if (!key || m_streams.contains(*key) || !stream->owner) {
        drop(stream); // no device, no driver, or no room for another connection
        return;
    }
    stream->key = *key;
    stream->phase = HostStream::Phase::AwaitingGuest;
    // Bytes the client sent after its line are the stream's first bytes for the guest.
    stream->receive_begin = line_length;
    stream->announce_readable = stream->receive_end > line_length;
    m_streams.emplace(*key, stream);
}

void UnixVsockBackend::on_handshake_timeout(StreamPointer const& stream, int result)
{
    stream->handshake_timer.reset();
    if (result != 0 || stream->phase != HostStream::Phase::Handshake)
        return; // cancelled: the handshake finished or the stream is gone
    log_info("vsock backend: disconnecting a host client that sent no CONNECT line in time");
    drop(stream);
}

} // namespace husk
