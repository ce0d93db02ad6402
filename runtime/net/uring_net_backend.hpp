// UringNetBackend: a NetBackend on the VMM's io_uring EventLoop over any non-blocking descriptor
// with packet boundaries and the virtio-net header in front of each frame: a tap (TapDevice)
// in the VMM, a SOCK_SEQPACKET socketpair in tests. Receives are readv straight into the guest's
// buffers, transmits writev straight from them. A receive waits in a POLLIN poll first and reads
// once the descriptor is readable: Linux 6.1's io_uring arms a poll inline only for plain reads
// and hands a vectored read that would block to an io-wq worker thread. A read that still finds
// nothing (-EAGAIN) polls again, and a transmit into a full socket waits for POLLOUT; the device
// only ever sees frames and real errors.
//
// The loop must allow net_backend_opcodes(). Everything runs on the loop's thread. Destroying
// the backend with operations in flight is safe: their completions find it gone and do nothing.
#pragma once

#include "runtime/io/event_loop.hpp"
#include "runtime/io/owner_completions.hpp"
#include "virtio/net/net_backend.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace husk {

// What a loop must allow for net backends.
std::vector<IoOpcode> net_backend_opcodes();

class UringNetBackend final : public NetBackend {
public:
    using OffloadSetter = std::function<Result<void>(RxOffloads)>;
    // Registers `fd` with `loop`; both must outlive the backend. `set_offloads` carries
    // set_receive_offloads() to the descriptor (TUNSETOFFLOAD for a tap).
    static Result<std::unique_ptr<UringNetBackend>> create(EventLoop& loop, int fd, OffloadSetter set_offloads);
    ~UringNetBackend() override;
    UringNetBackend(UringNetBackend const&) = delete;
    UringNetBackend& operator=(UringNetBackend const&) = delete;

    void set_events(NetBackendEvents* events) override { m_events = events; }
    Result<void> set_receive_offloads(RxOffloads offloads) override { return m_set_offloads(offloads); }
    Result<void> start_receive(std::span<iovec const> buffers) override;
    void cancel_receive() override;
    Result<void> start_transmit(uint64_t tag, std::span<iovec const> buffers) override;
    Result<void> start_timer(std::chrono::nanoseconds delay) override;

    bool is_receiving() const { return m_receive.has_value(); }
    size_t transmits_in_flight() const { return m_transmits.size(); }

private:
    struct Transmit {
        std::span<iovec const> buffers;
        std::optional<OperationId> operation;
    };

    UringNetBackend(EventLoop& loop, FixedFile file, OffloadSetter set_offloads);
    Result<void> submit_poll();
    Result<void> submit_read();
    Result<void> submit_write(uint64_t tag);
    void on_read(int result);
    void on_write(uint64_t tag, int result);

    EventLoop& m_loop;
    FixedFile m_file;
    OffloadSetter m_set_offloads;
    NetBackendEvents* m_events { nullptr };
    std::span<iovec const> m_receive_buffers;
    std::optional<OperationId> m_receive; // the read or poll of the receive in flight
    // cancel_receive() came: a poll that had already fired must not lead to a read that waits
    // again (a pause would wait for it forever), only to one that finishes at once or not at all.
    bool m_receive_cancelled { false };
    std::unordered_map<uint64_t, Transmit> m_transmits;
    // The loop may run completions after the backend is gone: they hold a weak reference.
    OwnerCompletions<UringNetBackend> m_completions { *this };
};

} // namespace husk
