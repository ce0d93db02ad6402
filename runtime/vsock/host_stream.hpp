// HostStream: one host-side unix socket of the hybrid-vsock backend with its buffers and the
// io_uring operations in flight on it. Streams are shared_ptr-owned and every completion holds a
// reference, so the buffers the kernel writes into outlive the backend's interest in the stream:
// closing detaches it (owner = nullptr) and the last completion frees it.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/io/event_loop.hpp"
#include "virtio/vsock/vsock_backend.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace husk {

class UnixVsockBackend;

// Bytes read ahead from a host socket per stream; what the guest cannot take yet stays in the
// socket, so a host writer is slowed by the guest's credit, not buffered without bound here.
inline constexpr size_t host_stream_receive_buffer = 64 * 1024;

struct HostStream {
    enum class Phase : uint8_t {
        Handshake, // host-initiated: reading the CONNECT line
        AwaitingGuest, // host-initiated: the guest has been asked and has not answered yet
        Open, // forwarding both ways
    };

    UnixVsockBackend* owner { nullptr }; // nullptr once the backend let go of the stream
    Fd fd;
    FixedFile file {};
    Phase phase { Phase::Handshake };
    VsockConnectionKey key {}; // valid from AwaitingGuest on

    // Host → guest. Bytes [receive_begin, receive_end) of receive_buffer are waiting for read().
    // During the handshake the buffer is only max_connect_line long and collects the CONNECT
    // line; it grows to host_stream_receive_buffer when the stream opens (never while a receive
    // is in flight), so clients stuck in the handshake cost little memory.
    std::vector<uint8_t> receive_buffer;
    size_t receive_begin { 0 };
    size_t receive_end { 0 };
    bool end_of_stream { false };
    std::optional<OperationId> receive_operation;
    // Bytes that followed the CONNECT line are announced once the guest has accepted.
    bool announce_readable { false };

    // Guest → host. `sending` is in the kernel's hands while send_operation is set; write()
    // appends to `outgoing`, which becomes the next `sending`.
    std::vector<uint8_t> sending;
    size_t send_offset { 0 };
    std::vector<uint8_t> outgoing;
    std::optional<OperationId> send_operation;
    // Leading bytes of the send stream that are ours (the OK line), not the guest's: they are
    // not reported as consumed guest bytes.
    size_t unreported_bytes { 0 };
    bool shutdown_write_requested { false };
    bool write_shut { false };

    std::optional<OperationId> handshake_timer;

    size_t buffered_for_guest() const { return receive_end - receive_begin; }
    size_t queued_for_host() const { return sending.size() - send_offset + outgoing.size(); }
};

} // namespace husk
