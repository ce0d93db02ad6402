// EventLoop::State: the loop's internals (ring, file table, pending operations, dispatch), kept
// out of event_loop.hpp so users of the loop never see liburing. Internal to runtime/io/.
#pragma once

#include "runtime/base/event_fd.hpp"
#include "runtime/io/event_loop.hpp"
#include "runtime/io/ring.hpp"

#include <atomic>
#include <bitset>
#include <liburing.h>
#include <optional>
#include <unordered_map>

namespace husk {

// What the dispatcher must know about an operation to turn its CQEs into completions.
enum class OperationKind {
    Poll, // no side effect: reports -ECANCELED once cancelled, re-armed when multishot
    Timeout, // no side effect: -ETIME (expired) becomes 0, reports -ECANCELED once cancelled
    Transfer, // moves data or creates an fd: its real result always wins over a late cancel
};

struct Operation {
    Completion completion;
    OperationKind kind { OperationKind::Transfer };
    FixedFile file {};
    uint32_t poll_events { 0 };
    Multishot multishot { Multishot::No };
    bool multishot_armed { false }; // the SQE in the kernel is a multishot poll
    bool cancelled { false };
    bool internal { false }; // the loop's own stop poll: not cancellable, not counted
    // It may stay in the kernel indefinitely (it waits for readiness: a poll, accept, or a
    // transfer on a socket or pipe). Such operations are cancelled and submitted again after a
    // file leaves the table (refresh_waiting_operations), because io_uring releases a removed
    // file only once every operation submitted before the removal has completed.
    bool waits_for_readiness { false };
    bool refreshing { false }; // cancelled by the loop to be submitted again, unseen by the caller
    // Fills the SQE again for a refresh (polls use prepare_poll instead).
    std::function<void(io_uring_sqe*, Operation&)> prepare;
    // The kernel copies the timespec when it consumes the SQE, which happens at the next
    // submit; the operation's node (stable in an unordered_map) keeps it alive until then.
    __kernel_timespec timeout {};
};

struct EventLoop::State {
    // User data of the loop's cancel SQEs, whose completions carry nothing the caller needs.
    static constexpr uint64_t cancel_user_data = 0;
    static constexpr uint64_t first_operation_id = 1;

    State(Ring ring, uint32_t user_file_count, EventFd stop_event)
        : m_ring(std::move(ring))
        , m_files(user_file_count)
        , m_stop_slot(user_file_count)
        , m_stop_event(std::move(stop_event))
    {
    }
    ~State();

    Result<io_uring_sqe*> next_sqe();
    Result<void> flush_submissions();
    Result<void> check_file(FixedFile file) const;
    Result<void> check_allowed(IoOpcode opcode) const;
    // Takes an SQE, records the operation and lets prepare fill the SQE; IOSQE_FIXED_FILE and
    // the user data are set afterwards so no operation can miss them.
    Result<OperationId> submit(
        IoOpcode opcode, Operation operation, std::function<void(io_uring_sqe*, Operation&)> prepare);
    // submit() for an operation that moves data or creates an fd on a registered file.
    Result<OperationId> submit_transfer(IoOpcode opcode, FixedFile file, Completion completion,
        std::function<void(io_uring_sqe*, Operation&)> prepare, bool waits_for_readiness);
    void prepare_poll(io_uring_sqe* sqe, Operation& operation);
    Result<void> arm_stop_poll();

    size_t reap();
    void dispatch(uint64_t user_data, int result, uint32_t flags);
    void dispatch_persistent_poll(uint64_t id, int result, bool more);
    void finish(uint64_t id, int result);
    bool rearm(uint64_t id);
    // After `removed` left the file table: cancels every other operation that waits for
    // readiness so that dispatch() submits it again (resubmit_refreshed), letting the kernel
    // release the removed file.
    void refresh_waiting_operations(FixedFile removed);
    bool resubmit_refreshed(uint64_t id);
    void drain();

    Ring m_ring;
    FixedFileTable m_files; // slots 0..n-1 for the caller
    uint32_t m_stop_slot; // slot n: the stop eventfd
    EventFd m_stop_event;
    std::atomic<bool> m_stop_requested { false };
    std::optional<Error> m_stop_poll_error;
    std::bitset<io_opcode_count> m_allowed;
    std::unordered_map<uint64_t, Operation> m_operations;
    uint64_t m_next_id { first_operation_id };
    bool m_dispatching { false };
    bool m_draining { false };
    bool m_multishot_poll_supported { true };
    bool m_multishot_poll_confirmed { false };
};

} // namespace husk
