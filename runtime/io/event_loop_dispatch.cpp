// EventLoop::State: SQE acquisition and submission, and turning CQEs into completions (one-shot,
// multishot poll with re-arm, cancellation), plus the drain that runs when the loop goes away.
#include "runtime/base/log.hpp"
#include "runtime/io/event_loop_state.hpp"

#include <chrono>
#include <cstring>
#include <string>

namespace husk {

namespace {

    // How long a dying loop waits for the kernel to return the caller's buffers. Only requests stuck
    // in a blocking io-wq read of a regular file can take this long.
    constexpr auto drain_limit = std::chrono::seconds(2);
    constexpr long long drain_step_nanoseconds = 50'000'000;

} // namespace

EventLoop::State::~State() { drain(); }

Result<io_uring_sqe*> EventLoop::State::next_sqe()
{
    if (auto* sqe = io_uring_get_sqe(m_ring.get()))
        return sqe;
    TRY(flush_submissions());
    if (auto* sqe = io_uring_get_sqe(m_ring.get()))
        return sqe;
    return fail("the io_uring submission queue is full (" + std::to_string(m_ring.get()->sq.ring_entries)
        + " entries) and the kernel accepts no more until completions are processed");
}

Result<void> EventLoop::State::flush_submissions()
{
    while (io_uring_sq_ready(m_ring.get()) > 0) {
        int rc = io_uring_submit(m_ring.get());
        if (rc == -EINTR)
            continue;
        // The kernel is short of request memory or its completion queue overflowed: the SQEs
        // stay queued and go in after the next reap.
        if (rc == -EAGAIN || rc == -EBUSY || rc == 0)
            return {};
        if (rc < 0)
            return fail_errno("io_uring_submit", -rc);
    }
    return {};
}

Result<void> EventLoop::State::check_file(FixedFile file) const
{
    if (!m_files.is_registered(file))
        return fail("fixed file " + std::to_string(file.index) + " is not registered with the io_uring loop");
    return {};
}

Result<void> EventLoop::State::check_allowed(IoOpcode opcode) const
{
    if (!m_allowed.test(static_cast<size_t>(opcode)))
        return fail("io_uring opcode " + std::string(io_opcode_name(opcode))
            + " is not in this loop's allow-list (EventLoopConfig::opcodes)");
    return {};
}

Result<OperationId> EventLoop::State::submit(
    IoOpcode opcode, Operation operation, std::function<void(io_uring_sqe*, Operation&)> prepare)
{
    TRY(check_allowed(opcode));
    auto* sqe = TRY(next_sqe());
    uint64_t id = m_next_id++;
    Operation& stored = m_operations.emplace(id, std::move(operation)).first->second;
    stored.prepare = std::move(prepare);
    stored.prepare(sqe, stored);
    sqe->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(sqe, id);
    return OperationId { id };
}

void EventLoop::State::prepare_poll(io_uring_sqe* sqe, Operation& operation)
{
    operation.multishot_armed = operation.multishot == Multishot::Yes && m_multishot_poll_supported;
    if (operation.multishot_armed)
        io_uring_prep_poll_multishot(sqe, static_cast<int>(operation.file.index), operation.poll_events);
    else
        io_uring_prep_poll_add(sqe, static_cast<int>(operation.file.index), operation.poll_events);
}

size_t EventLoop::State::reap()
{
    // Only what is ready now: completions that submit work completing at once must not keep
    // this call going forever.
    unsigned ready = io_uring_cq_ready(m_ring.get());
    size_t processed = 0;
    m_dispatching = true;
    while (processed < ready) {
        io_uring_cqe* cqe = nullptr;
        if (io_uring_peek_cqe(m_ring.get(), &cqe) != 0 || cqe == nullptr)
            break;
        uint64_t user_data = cqe->user_data;
        int result = cqe->res;
        uint32_t flags = cqe->flags;
        // Release the slot before running the completion, which may submit more work.
        io_uring_cqe_seen(m_ring.get(), cqe);
        dispatch(user_data, result, flags);
        ++processed;
    }
    m_dispatching = false;
    return processed;
}

void EventLoop::State::dispatch(uint64_t user_data, int result, uint32_t flags)
{
    if (user_data == cancel_user_data) {
        // ENOENT: the target had finished already; EALREADY: it is running and ends on its own.
        if (result < 0 && result != -ENOENT && result != -EALREADY)
            log_debug(std::string("io_uring cancel failed: ") + std::strerror(-result));
        return;
    }
    auto found = m_operations.find(user_data);
    if (found == m_operations.end()) {
        log_warn("io_uring completion for unknown operation " + std::to_string(user_data));
        return;
    }
    bool more = flags & IORING_CQE_F_MORE;
    if (more)
        m_multishot_poll_confirmed = true;
    if (m_draining) {
        if (!more)
            m_operations.erase(found);
        return;
    }
    Operation& operation = found->second;
    if (operation.refreshing && !more) {
        operation.refreshing = false;
        // Cancelled by refresh_waiting_operations (an interrupted io-wq transfer says EINTR):
        // submit it again. Anything else is the operation's real end and goes to the caller.
        if ((result == -ECANCELED || result == -EINTR) && !operation.cancelled) {
            if (!resubmit_refreshed(user_data))
                finish(user_data, -EBUSY);
            return;
        }
    }
    if (operation.kind == OperationKind::Poll && operation.multishot == Multishot::Yes) {
        dispatch_persistent_poll(user_data, result, more);
        return;
    }
    if (operation.cancelled && (operation.kind != OperationKind::Transfer || result == -EINTR))
        result = -ECANCELED;
    else if (operation.kind == OperationKind::Timeout && result == -ETIME)
        result = 0;
    finish(user_data, result);
}

void EventLoop::State::dispatch_persistent_poll(uint64_t id, int result, bool more)
{
    Operation& operation = m_operations.find(id)->second;
    if (result < 0) {
        // Kernels before 5.13 refuse multishot polls with EINVAL: fall back to re-arming
        // one-shot polls for this and every later poll.
        if (result == -EINVAL && operation.multishot_armed && !m_multishot_poll_confirmed && !operation.cancelled) {
            log_info("io_uring multishot poll unsupported by this kernel; re-arming one-shot polls instead");
            m_multishot_poll_supported = false;
            if (rearm(id))
                return;
        }
        finish(id, operation.cancelled ? -ECANCELED : result);
        return;
    }
    // Readiness after cancel() is not reported: the caller asked for exactly one more call.
    if (!operation.cancelled)
        operation.completion(result); // element references survive inserts by the completion
    if (more)
        return;
    // The kernel ended this poll (one-shot arm, or a multishot it had to stop): the caller still
    // expects events, so arm it again unless it was cancelled meanwhile.
    if (operation.cancelled) {
        finish(id, -ECANCELED);
        return;
    }
    if (!rearm(id))
        finish(id, -EBUSY);
}

void EventLoop::State::finish(uint64_t id, int result)
{
    auto node = m_operations.extract(id);
    // Out of the table before the call: the completion may start new operations.
    if (!node.empty() && node.mapped().completion)
        node.mapped().completion(result);
}

bool EventLoop::State::rearm(uint64_t id)
{
    auto sqe = next_sqe();
    if (!sqe) {
        log_warn("cannot re-arm io_uring poll " + std::to_string(id) + ": " + sqe.error().message);
        return false;
    }
    prepare_poll(*sqe, m_operations.find(id)->second);
    (*sqe)->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(*sqe, id);
    return true;
}

void EventLoop::State::refresh_waiting_operations(FixedFile removed)
{
    for (auto& [id, operation] : m_operations) {
        // Operations on the removed file itself keep working on it until the caller cancels them.
        if (!operation.waits_for_readiness || operation.cancelled || operation.refreshing
            || operation.file.index == removed.index)
            continue;
        auto sqe = next_sqe();
        if (!sqe) {
            log_warn("cannot refresh io_uring operation " + std::to_string(id) + ": " + sqe.error().message);
            return;
        }
        operation.refreshing = true;
        io_uring_prep_cancel64(*sqe, id, 0);
        (*sqe)->flags |= IOSQE_FIXED_FILE;
        io_uring_sqe_set_data64(*sqe, cancel_user_data);
    }
}

bool EventLoop::State::resubmit_refreshed(uint64_t id)
{
    Operation& operation = m_operations.find(id)->second;
    if (operation.kind == OperationKind::Poll)
        return rearm(id);
    auto sqe = next_sqe();
    if (!sqe) {
        log_warn("cannot resubmit io_uring operation " + std::to_string(id) + ": " + sqe.error().message);
        return false;
    }
    operation.prepare(*sqe, operation);
    (*sqe)->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(*sqe, id);
    return true;
}

void EventLoop::State::drain()
{
    m_draining = true;
    for (auto const& [id, operation] : m_operations) {
        auto sqe = next_sqe();
        if (!sqe)
            break;
        io_uring_prep_cancel64(*sqe, id, 0);
        (*sqe)->flags |= IOSQE_FIXED_FILE;
        io_uring_sqe_set_data64(*sqe, cancel_user_data);
    }
    (void)flush_submissions();
    auto deadline = std::chrono::steady_clock::now() + drain_limit;
    while (!m_operations.empty() && std::chrono::steady_clock::now() < deadline) {
        __kernel_timespec step { 0, drain_step_nanoseconds };
        io_uring_cqe* cqe = nullptr;
        int rc = io_uring_submit_and_wait_timeout(m_ring.get(), &cqe, 1, &step, nullptr);
        if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
            break;
        reap();
    }
    if (!m_operations.empty())
        log_warn("io_uring loop destroyed with " + std::to_string(m_operations.size())
            + " operations still in the kernel; their buffers must outlive the process's ring teardown");
}

} // namespace husk
