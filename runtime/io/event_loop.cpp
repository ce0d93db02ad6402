// EventLoop set-up, file registration, cancel and the run loop. Operations are in
// event_loop_operations.cpp, completion dispatch in event_loop_dispatch.cpp.
#include "runtime/io/event_loop.hpp"
#include "runtime/base/log.hpp"
#include "runtime/io/event_loop_state.hpp"

#include <cstring>
#include <limits>
#include <poll.h>
#include <string>

namespace husk {

Result<EventLoop> EventLoop::create(EventLoopConfig const& config)
{
    if (config.fixed_file_count == 0 || config.fixed_file_count == std::numeric_limits<uint32_t>::max())
        return fail("EventLoopConfig::fixed_file_count " + std::to_string(config.fixed_file_count) + " is invalid");
    std::bitset<io_opcode_count> allowed;
    for (IoOpcode opcode : config.opcodes) {
        if (static_cast<uint8_t>(opcode) >= io_opcode_count)
            return fail("EventLoopConfig lists an unknown IoOpcode " + std::to_string(static_cast<unsigned>(opcode)));
        allowed.set(static_cast<size_t>(opcode));
    }
    // The loop itself polls its stop eventfd and submits cancels.
    allowed.set(static_cast<size_t>(IoOpcode::Poll));
    allowed.set(static_cast<size_t>(IoOpcode::Cancel));

    RingConfig ring_config;
    ring_config.queue_depth = config.queue_depth;
    ring_config.fixed_file_count = config.fixed_file_count + 1; // one more slot for the stop eventfd
    ring_config.max_bounded_workers = config.max_bounded_workers;
    ring_config.max_unbounded_workers = config.max_unbounded_workers;
    for (size_t index = 0; index < io_opcode_count; ++index) {
        if (allowed.test(index))
            ring_config.allowed_kernel_opcodes.push_back(kernel_opcode(static_cast<IoOpcode>(index)));
    }

    auto ring = TRY(Ring::create(ring_config));
    auto stop_event = TRY(EventFd::create(EventFd::Mode::NonBlocking));
    TRY_CONTEXT(ring.update_file(config.fixed_file_count, stop_event.fd()), "registering the loop's stop eventfd");
    auto state = std::make_unique<State>(std::move(ring), config.fixed_file_count, std::move(stop_event));
    state->m_allowed = allowed;
    TRY(state->arm_stop_poll());
    return EventLoop(std::move(state));
}

EventLoop::EventLoop(std::unique_ptr<State> state)
    : m_state(std::move(state))
{
}

EventLoop::EventLoop(EventLoop&&) noexcept = default;
EventLoop& EventLoop::operator=(EventLoop&&) noexcept = default;
EventLoop::~EventLoop() = default;

Result<FixedFile> EventLoop::register_file(int fd)
{
    if (fd < 0)
        return fail("cannot register file descriptor " + std::to_string(fd) + " with the io_uring loop");
    auto file = TRY(m_state->m_files.acquire());
    auto updated = m_state->m_ring.update_file(file.index, fd);
    if (!updated) {
        (void)m_state->m_files.release(file);
        return unexpected(std::move(updated).error());
    }
    return file;
}

Result<void> EventLoop::unregister_file(FixedFile file)
{
    TRY(m_state->check_file(file));
    // Queued SQEs resolve their fixed file when the kernel consumes them; hand them over first
    // so none of them picks up whatever is put in this slot next.
    TRY(m_state->flush_submissions());
    TRY(m_state->m_ring.update_file(file.index, -1));
    m_state->refresh_waiting_operations(file);
    return m_state->m_files.release(file);
}

Result<void> EventLoop::cancel(OperationId id)
{
    State& state = *m_state;
    auto found = state.m_operations.find(id.value);
    if (found == state.m_operations.end() || found->second.internal)
        return fail("cannot cancel io_uring operation " + std::to_string(id.value) + ": it is not pending");
    if (found->second.cancelled)
        return {};
    auto* sqe = TRY(state.next_sqe());
    // next_sqe() may submit but never touches the operation table, so `found` is still valid.
    found->second.cancelled = true;
    io_uring_prep_cancel64(sqe, id.value, 0);
    sqe->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(sqe, State::cancel_user_data);
    return {};
}

Result<size_t> EventLoop::run_once(std::optional<std::chrono::milliseconds> wait)
{
    State& state = *m_state;
    if (state.m_dispatching)
        return fail("EventLoop::run_once must not be called from a completion");
    TRY(state.flush_submissions());

    io_uring_cqe* cqe = nullptr;
    int rc;
    if (wait.has_value()) {
        auto milliseconds = std::max<int64_t>(wait->count(), 0);
        __kernel_timespec timeout {};
        timeout.tv_sec = milliseconds / 1000;
        timeout.tv_nsec = (milliseconds % 1000) * 1'000'000;
        rc = io_uring_submit_and_wait_timeout(state.m_ring.get(), &cqe, 1, &timeout, nullptr);
    } else {
        rc = io_uring_submit_and_wait_timeout(state.m_ring.get(), &cqe, 1, nullptr, nullptr);
    }
    // ETIME: nothing completed in time. EINTR: a signal. EAGAIN/EBUSY: the kernel wants the
    // completion queue drained first, which is what comes next.
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
        return fail_errno("waiting for io_uring completions", -rc);

    size_t processed = state.reap();
    // Hand what the completions queued to the kernel now, not at the next call.
    TRY(state.flush_submissions());
    return processed;
}

Result<void> EventLoop::run()
{
    State& state = *m_state;
    while (!state.m_stop_requested.exchange(false))
        TRY(run_once(std::nullopt));
    if (state.m_stop_poll_error.has_value()) {
        Error error = std::move(*state.m_stop_poll_error);
        state.m_stop_poll_error.reset();
        return unexpected(std::move(error));
    }
    return {};
}

void EventLoop::stop()
{
    // Flag first: the loop checks it after every wake-up, and the signal guarantees a wake-up.
    m_state->m_stop_requested.store(true);
    auto signalled = m_state->m_stop_event.signal();
    if (!signalled)
        log_error("cannot wake the io_uring loop: " + signalled.error().message);
}

size_t EventLoop::pending_operations() const
{
    size_t count = 0;
    for (auto const& [id, operation] : m_state->m_operations) {
        if (!operation.internal)
            ++count;
    }
    return count;
}

Result<void> EventLoop::State::arm_stop_poll()
{
    Operation operation;
    operation.kind = OperationKind::Poll;
    operation.file = FixedFile { m_stop_slot };
    operation.poll_events = POLLIN;
    operation.multishot = Multishot::Yes;
    operation.internal = true;
    operation.waits_for_readiness = true;
    operation.completion = [this](int result) {
        if (result >= 0) {
            // Reset the counter so the poll does not fire again for the same stop().
            auto consumed = m_stop_event.consume();
            if (!consumed)
                log_warn("io_uring loop: " + consumed.error().message);
            return;
        }
        // The wake-up path is gone; make run() return the cause instead of sleeping forever.
        m_stop_poll_error
            = Error { std::string("the io_uring loop's stop poll ended: ") + std::strerror(-result), -result };
        m_stop_requested.store(true);
    };
    TRY(submit(IoOpcode::Poll, std::move(operation),
        [this](io_uring_sqe* sqe, Operation& stored) { prepare_poll(sqe, stored); }));
    return {};
}

Result<OperationId> EventLoopTesting::submit_raw(
    EventLoop& loop, std::function<void(io_uring_sqe&)> const& prepare, Completion completion)
{
    auto& state = *loop.m_state;
    auto* sqe = TRY(state.next_sqe());
    uint64_t id = state.m_next_id++;
    Operation operation;
    operation.completion = std::move(completion);
    state.m_operations.emplace(id, std::move(operation));
    prepare(*sqe);
    io_uring_sqe_set_data64(sqe, id);
    return OperationId { id };
}

} // namespace husk
