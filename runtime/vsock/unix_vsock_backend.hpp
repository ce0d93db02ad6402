// UnixVsockBackend: the hybrid-vsock host side (the Firecracker convention) over AF_UNIX stream
// sockets on the VMM's io_uring EventLoop.
// - host → guest: a host process connects to `uds_path` and writes `CONNECT <port>\n`; the
//   backend asks the device for a stream to that guest port and, when the guest accepts, writes
//   `OK <host port>\n` and forwards bytes both ways.
// - guest → host: a guest connect to host port P connects to the unix socket `<uds_path>_<P>`;
//   if nothing listens there the guest gets RST.
// All socket I/O goes through the loop (accept, recv, send); the only direct socket calls are
// the non-blocking connect for guest-initiated streams and shutdown(SHUT_WR) for half-closes.
//
// Threading: everything runs on the loop's thread. Lifetime: the loop must outlive the backend
// and the backend must outlive the device that uses it. Destruction closes every stream and
// removes the listening socket's path (if it is still ours).
#pragma once

#include "runtime/io/event_loop.hpp"
#include "runtime/io/io_opcode.hpp"
#include "runtime/vsock/host_stream.hpp"
#include "runtime/vsock/unix_socket.hpp"
#include "virtio/vsock/vsock_backend.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace husk {

struct UnixVsockBackendLimits {
    // Host sockets at once, handshaking ones included. Each also takes a fixed-file slot of the
    // loop, so the loop's fixed_file_count must leave room for them.
    size_t max_streams { 1024 };
    // A client that has not sent a complete CONNECT line by then is disconnected.
    std::chrono::milliseconds handshake_timeout { 5000 };
    int listen_backlog { 128 };
};

class UnixVsockBackend final : public VsockBackend {
public:
    // Listens at `uds_path` (created 0600; a stale socket there is replaced, anything else is
    // refused) and starts accepting on `loop`.
    // Guest connections to host port P go to `<connect_base>_<P>`: `uds_path` unless the VMM will
    // run in a root where that path means something else (the jail); "" refuses them.
    static Result<std::unique_ptr<UnixVsockBackend>> create(EventLoop& loop, std::string uds_path,
        UnixVsockBackendLimits limits = {}, std::optional<std::string> connect_base = std::nullopt);
    // Opcodes the loop's EventLoopConfig must allow for this backend.
    static std::vector<IoOpcode> required_opcodes();

    ~UnixVsockBackend() override;
    UnixVsockBackend(UnixVsockBackend const&) = delete;
    UnixVsockBackend& operator=(UnixVsockBackend const&) = delete;

    // VsockBackend
    void set_events(VsockBackendEvents* events) override { m_events = events; }
    VsockOpenOutcome open_stream(VsockConnectionKey key) override;
    void accept_stream(VsockConnectionKey key) override;
    Result<void> write(VsockConnectionKey key, std::span<uint8_t const> data) override;
    VsockReadResult read(VsockConnectionKey key, std::span<uint8_t> destination) override;
    void shutdown_write(VsockConnectionKey key) override;
    void close(VsockConnectionKey key) override;

    std::string const& path() const { return m_path; }
    // True while some host stream still has guest bytes to send (a pending half-close follows
    // them at once).
    bool has_unsent_guest_data() const;
    size_t stream_count() const { return m_streams.size() + m_handshakes.size(); }

private:
    using StreamPointer = std::shared_ptr<HostStream>;
    // Liveness token for the listener's completions, which must not touch a destroyed backend.
    struct Anchor {
        UnixVsockBackend* backend { nullptr };
    };

    UnixVsockBackend(EventLoop& loop, std::string path, UnixVsockBackendLimits limits, UnixListener listener);

    Result<void> start_accepting();
    Result<void> arm_accept();
    void retry_accept_later();
    void on_accept(int result);
    Result<StreamPointer> adopt_socket(Fd fd, HostStream::Phase phase);
    void arm_handshake_receive(StreamPointer const& stream);
    void on_handshake_receive(StreamPointer const& stream, int result);
    void finish_handshake(StreamPointer const& stream, size_t line_length);
    void on_handshake_timeout(StreamPointer const& stream, int result);
    Result<void> arm_receive(StreamPointer const& stream);
    // Moves the bytes not yet read to the front of the receive buffer (no receive in flight).
    static void make_receive_room(HostStream& stream);
    void on_receive(StreamPointer const& stream, int result);
    Result<void> kick_send(StreamPointer const& stream);
    void on_send(StreamPointer const& stream, int result);
    void shut_write_if_flushed(HostStream& stream);
    // Forgets the stream: cancels its I/O, frees its fixed-file slot and closes its socket.
    void drop(StreamPointer const& stream);
    // The host end failed: drop it and tell the device.
    void fail_stream(StreamPointer const& stream);
    StreamPointer find(VsockConnectionKey key) const;

    EventLoop& m_loop;
    std::string m_path;
    std::string m_connect_base; // empty: guest-initiated connections are refused
    UnixVsockBackendLimits m_limits;
    UnixListener m_listener;
    FixedFile m_listener_file {};
    bool m_listener_registered { false };
    std::optional<OperationId> m_accept_operation;
    std::shared_ptr<Anchor> m_anchor;
    VsockBackendEvents* m_events { nullptr };
    std::unordered_map<VsockConnectionKey, StreamPointer, VsockConnectionKeyHash> m_streams;
    std::unordered_map<HostStream*, StreamPointer> m_handshakes;
};

} // namespace husk
