// EventLoop: the one io_uring loop of the VMM's main/event thread (docs/architecture.md). Every device
// backend submits its I/O here: ioeventfd polls for virtqueue notifications, reads and writes of
// block images, vsock host sockets, timers. The ring is locked down (docs/security.md): it
// only runs the opcodes the config lists and only on files registered in its fixed-file table.
//
// Threading: everything except stop() must be called on the thread that runs the loop.
//
// Lifetime rules:
// - Submissions are batched: an operation is queued when its method returns and reaches the
//   kernel at the next run_once() at the latest (earlier when the submission queue is full or a
//   file is unregistered).
// - Buffers, iovec arrays and the descriptors behind registered files belong to the caller and
//   must stay valid until the operation's completion has run; the loop owns none of them.
// - A Completion runs on the loop thread inside run_once(): exactly once for a one-shot
//   operation; for a multishot poll once per readiness event (result >= 0) and a last time with
//   a negative result (-ECANCELED after cancel(), or the kernel's error); polls the kernel ends
//   on its own (full completion queue, kernels without multishot poll) are re-armed unseen.
//   Completions may submit, cancel and (un)register, but must not call run_once()/run() or
//   destroy the loop.
// - cancel() makes the completion run exactly once more, then never again. Polls and timers
//   report -ECANCELED. A transfer (read, write, recv, send, accept) that the kernel had already
//   finished reports its real result instead, so finished I/O (or an accepted fd) is never lost.
// - Destroying the loop cancels whatever is pending and waits (bounded) for the kernel to let go
//   of the caller's buffers; completions are not invoked then.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/io/fixed_file_table.hpp"
#include "runtime/io/io_opcode.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

struct io_uring_sqe;
struct iovec;

namespace husk {

// Identifies one submitted operation until its last completion; never reused by a loop.
struct OperationId {
    uint64_t value { 0 };
    bool operator==(OperationId const&) const = default;
};

// result >= 0: bytes transferred, the poll's revents mask, an accepted fd (owned by the callee
// from then on), or 0 for an expired timeout. result < 0: -errno.
using Completion = std::function<void(int result)>;

enum class Multishot { No, Yes };

// Offset for files without a position (pipes, sockets, eventfds) or to use the file position.
inline constexpr uint64_t stream_offset = ~uint64_t { 0 };

struct EventLoopConfig {
    // Opcodes the backends will submit. Poll and Cancel are always allowed: the loop needs them
    // for stop() and cancel().
    std::vector<IoOpcode> opcodes;
    uint32_t fixed_file_count { 64 }; // files the caller can register at once
    uint32_t queue_depth { 256 }; // submission queue entries
    // Kernel io-wq threads for requests that must block: bounded (regular files, the block
    // image) and unbounded (everything else). Small on purpose, see ring.cpp.
    uint32_t max_bounded_workers { 2 };
    uint32_t max_unbounded_workers { 2 };
};

class EventLoop {
public:
    // Fails with one sentence naming the cause when the host refuses io_uring (sysctl
    // kernel.io_uring_disabled, seccomp) or the kernel is too old, so callers can report it.
    static Result<EventLoop> create(EventLoopConfig const& config);
    // A moved-from loop may only be destroyed or assigned to.
    EventLoop(EventLoop&&) noexcept;
    EventLoop& operator=(EventLoop&&) noexcept;
    EventLoop(EventLoop const&) = delete;
    EventLoop& operator=(EventLoop const&) = delete;
    ~EventLoop();

    // Puts fd in a free table slot. The loop does not own fd; keep it open until
    // unregister_file(). Fails clearly when the table is full.
    Result<FixedFile> register_file(int fd);
    // Empties the slot. Operations already in the kernel keep working on the old file; a
    // multishot poll that later needs re-arming ends with -EBADF, so cancel them first.
    // io_uring releases the old file only when every operation submitted before the removal has
    // completed, so the loop cancels and resubmits, unseen, the other operations that wait for
    // readiness (polls, accept, recv/send, reads and writes of sockets and pipes): a closed
    // socket is really closed then, and its peer sees end-of-file.
    Result<void> unregister_file(FixedFile file);

    Result<OperationId> poll(FixedFile file, uint32_t events, Multishot multishot, Completion completion);
    Result<OperationId> read(FixedFile file, std::span<uint8_t> buffer, uint64_t offset, Completion completion);
    Result<OperationId> write(FixedFile file, std::span<uint8_t const> buffer, uint64_t offset, Completion completion);
    Result<OperationId> readv(FixedFile file, std::span<iovec const> buffers, uint64_t offset, Completion completion);
    Result<OperationId> writev(FixedFile file, std::span<iovec const> buffers, uint64_t offset, Completion completion);
    Result<OperationId> recv(FixedFile file, std::span<uint8_t> buffer, int msg_flags, Completion completion);
    Result<OperationId> send(FixedFile file, std::span<uint8_t const> buffer, int msg_flags, Completion completion);
    // fdatasync (Sync::Data) or fsync (Sync::All) of a registered file; result 0 or -errno.
    enum class Sync { Data, All };
    Result<OperationId> fsync(FixedFile file, Sync sync, Completion completion);
    // fallocate(2) with `mode` (FALLOC_FL_*) on [offset, offset + length); result 0 or -errno.
    Result<OperationId> fallocate(FixedFile file, int mode, uint64_t offset, uint64_t length, Completion completion);
    // The accepted socket is a plain close-on-exec fd (register it to use it with the loop).
    Result<OperationId> accept(FixedFile listener, Completion completion);
    Result<OperationId> timeout(std::chrono::nanoseconds duration, Completion completion);
    // Fails when id is not pending. Cancelling twice is harmless.
    Result<void> cancel(OperationId id);

    // Submits what is queued, waits up to `wait` (forever when empty) for at least one
    // completion and runs the completions that are ready. Returns how many it processed; 0 on
    // timeout or when a signal interrupted the wait.
    Result<size_t> run_once(std::optional<std::chrono::milliseconds> wait);
    // run_once() until stop(); a stop() that came before run() makes it return at once.
    Result<void> run();
    // Thread-safe: wakes the loop through its own eventfd, polled like any other file.
    void stop();

    // Operations whose last completion has not run yet (the loop's own stop poll excluded).
    size_t pending_operations() const;

private:
    struct State;
    explicit EventLoop(std::unique_ptr<State> state);

    std::unique_ptr<State> m_state;
    friend struct EventLoopTesting;
};

// Test hook: queues an SQE exactly as `prepare` fills it (no IOSQE_FIXED_FILE added, no
// allow-list check) so tests can prove the kernel restrictions refuse it. Not for device code.
struct EventLoopTesting {
    static Result<OperationId> submit_raw(
        EventLoop& loop, std::function<void(io_uring_sqe&)> const& prepare, Completion completion);
};

} // namespace husk
