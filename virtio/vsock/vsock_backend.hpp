// VsockBackend: the host side of virtio-vsock streams, as the muxer sees it. The device speaks
// vsock to the guest; a backend carries each connection's bytes to a host endpoint (unix sockets
// in runtime/vsock/, a fake in tests). VsockBackendEvents is the way back: the backend reports
// host-side happenings to the device.
//
// Threading and re-entrancy: every call in both directions happens on the VMM event thread. A
// backend never calls VsockBackendEvents from inside one of its VsockBackend methods (the device
// holds its lock while calling them); it reports later, from its own I/O completions.
#pragma once

#include "runtime/base/result.hpp"

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

namespace husk {

// A stream is named by its two ports: the guest's end and the host's end. The CIDs are fixed
// (guest CID, host CID 2), so the ports alone identify it.
struct VsockConnectionKey {
    uint32_t guest_port { 0 };
    uint32_t host_port { 0 };
    auto operator<=>(VsockConnectionKey const&) const = default;
};

struct VsockConnectionKeyHash {
    size_t operator()(VsockConnectionKey const& key) const
    {
        return std::hash<uint64_t> {}((uint64_t { key.guest_port } << 32) | key.host_port);
    }
};

enum class VsockOpenOutcome : uint8_t {
    Connected, // the host endpoint accepted the stream
    InProgress, // the outcome comes later through on_host_connect_result
    Refused, // nothing listens there (or it refused): the guest gets RST
};

struct VsockReadResult {
    size_t bytes { 0 };
    // The host will send nothing more and every byte it sent has been read.
    bool end_of_stream { false };
};

class VsockBackendEvents {
public:
    virtual ~VsockBackendEvents() = default;

    // A host client wants a stream to `guest_port`. Returns the key the stream is known by from
    // now on (the device picks the host port), or nullopt to refuse: close the client.
    virtual std::optional<VsockConnectionKey> on_host_connect(uint32_t guest_port) = 0;
    // The outcome of an open_stream() that returned InProgress.
    virtual void on_host_connect_result(VsockConnectionKey key, VsockOpenOutcome outcome) = 0;
    // read() has something new to return: bytes, or the end of the stream.
    virtual void on_host_readable(VsockConnectionKey key) = 0;
    // `bytes` of what write() accepted have reached the host endpoint: the guest may send that
    // much more.
    virtual void on_host_consumed(VsockConnectionKey key, uint32_t bytes) = 0;
    // The host stream failed or was torn down; the backend has already forgotten the key.
    virtual void on_host_reset(VsockConnectionKey key) = 0;
};

class VsockBackend {
public:
    virtual ~VsockBackend() = default;

    // Where to report; nullptr detaches. The device attaches itself on construction.
    virtual void set_events(VsockBackendEvents* events) = 0;

    // The guest connects to host port key.host_port.
    virtual VsockOpenOutcome open_stream(VsockConnectionKey key) = 0;
    // The guest accepted the stream that on_host_connect announced: tell the host client and
    // start forwarding.
    virtual void accept_stream(VsockConnectionKey key) = 0;
    // Queues guest bytes for the host endpoint. The device never has more than its advertised
    // buffer (vsock_buffer_size) outstanding per stream; fails when the stream is gone.
    virtual Result<void> write(VsockConnectionKey key, std::span<uint8_t const> data) = 0;
    // Moves up to destination.size() host bytes out of the backend.
    virtual VsockReadResult read(VsockConnectionKey key, std::span<uint8_t> destination) = 0;
    // The guest will send nothing more: once queued bytes are delivered, half-close the host end.
    virtual void shutdown_write(VsockConnectionKey key) = 0;
    // Drops the stream at once; unknown keys are ignored.
    virtual void close(VsockConnectionKey key) = 0;
};

} // namespace husk
