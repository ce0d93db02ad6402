// StreamNetBackend: a NetBackend over a connected unix stream socket that carries plain Ethernet
// frames, each behind a 4-byte big-endian length (qemu's `-netdev stream`, passt's socket; see
// StreamDeframer). This is the backend where no root is available: passt, a user-mode network
// stack, sits at the other end and turns the guest's frames into its own host sockets.
//
// There is no virtio-net header on the stream, so no offload can be carried: the device must not
// offer CSUM or TSO with this backend (NetDeviceConfig::offloads), and set_receive_offloads()
// refuses any. Transmit strips the 12-byte header the device puts first (it can only say "no
// offload" then) and writes length + frame; receive writes a zeroed header and copies the frame
// behind it into the guest's buffers.
//
// Receive: reads go into the deframer's buffer (several frames at a time when the peer is
// ahead) only while the device has a receive pending, so a guest that posts no buffers leaves
// the frames in the socket and the peer sees back-pressure. A frame larger than the posted
// buffers is consumed and reported with its full length (the device drops and counts it).
// A frame that is already buffered is delivered through a zero-length timer: never from inside
// start_receive(). Transmit: frames are written in order, as many as are queued in one writev
// of at most 32 KiB (a socket buffer's worth, so the write is whole or refused: never a frame in
// part, which bookworm's passt cannot follow), and a partial write goes on where it stopped.
//
// A peer that closes (or a broken stream: a length of 0 or above the largest frame) is reported
// once, as a receive error (-ECONNRESET, -EPROTO), and logged once; after that the link is
// down: receives stay pending until cancelled and transmits fail with -EPIPE, so a device
// retrying does not spin the event thread.
//
// The loop must allow net_stream_backend_opcodes(). Everything runs on the loop's thread.
// Destroying the backend with operations in flight is safe: their completions find it gone.
#pragma once

#include "runtime/io/event_loop.hpp"
#include "runtime/io/owner_completions.hpp"
#include "runtime/net/stream_deframer.hpp"
#include "virtio/net/net_backend.hpp"

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace husk {

// What a loop must allow for the stream backend.
std::vector<IoOpcode> net_stream_backend_opcodes();

class StreamNetBackend final : public NetBackend {
public:
    // Registers `fd` (a connected, non-blocking stream socket) with `loop`; both must outlive
    // the backend.
    static Result<std::unique_ptr<StreamNetBackend>> create(EventLoop& loop, int fd);
    ~StreamNetBackend() override;
    StreamNetBackend(StreamNetBackend const&) = delete;
    StreamNetBackend& operator=(StreamNetBackend const&) = delete;

    void set_events(NetBackendEvents* events) override { m_events = events; }
    Result<void> set_receive_offloads(RxOffloads offloads) override;
    Result<void> start_receive(std::span<iovec const> buffers) override;
    void cancel_receive() override;
    Result<void> start_transmit(uint64_t tag, std::span<iovec const> buffers) override;
    Result<void> start_timer(std::chrono::nanoseconds delay) override;

    bool is_receiving() const { return m_receive_pending; }
    bool is_link_down() const { return m_link_down; }
    size_t transmits_queued() const { return m_transmits.size(); }

private:
    struct Transmit {
        uint64_t tag { 0 };
        std::array<uint8_t, StreamDeframer::length_prefix_size> prefix {};
        std::vector<iovec> frame; // the guest's frame buffers, the virtio-net header left out
        uint64_t length { 0 }; // prefix + frame bytes on the stream
        uint64_t reported { 0 }; // what the completion reports: the device's bytes
    };
    enum class Report { Deferred, Now };

    StreamNetBackend(EventLoop& loop, FixedFile file);
    // Receive.
    // Reports what can be reported (Deferred: through a zero-length timer), else reads more.
    void advance_receive(Report when);
    void on_recv(int result);
    void report_receive();
    int64_t copy_frame_to_guest(std::span<uint8_t const> frame) const;
    // Only from completions: may report failed transmits at once.
    void take_link_down(int error, std::string const& why);
    // Transmit.
    void write_queued();
    void on_written(int result);
    void fail_queued_transmits(int error);

    EventLoop& m_loop;
    FixedFile m_file;
    NetBackendEvents* m_events { nullptr };
    // Shared with the read in flight, which writes into it: it outlives a backend destroyed
    // before the read's completion has run.
    std::shared_ptr<StreamDeframer> m_deframer;
    bool m_link_down { false };
    bool m_link_down_reported { false };
    int m_link_down_error { 0 };

    std::span<iovec const> m_receive_buffers;
    bool m_receive_pending { false };
    bool m_receive_cancelled { false };
    std::optional<OperationId> m_recv; // a read into the deframer
    std::optional<OperationId> m_report_timer; // the zero-length timer of a deferred report

    // One writev: the length prefixes it sends and its iovecs, kept alive by its completion.
    struct WriteBatch {
        std::vector<std::array<uint8_t, StreamDeframer::length_prefix_size>> prefixes;
        std::vector<iovec> pieces;
    };
    std::deque<Transmit> m_transmits; // in stream order; the front may be partly written
    uint64_t m_front_written { 0 };
    bool m_writing { false };

    // The loop may run completions after the backend is gone: they hold a weak reference.
    OwnerCompletions<StreamNetBackend> m_completions { *this };
};

} // namespace husk
