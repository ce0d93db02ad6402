// EventLoop operations: each checks its arguments, records the operation and queues one SQE
// naming its file by fixed-file index.
#include "runtime/io/event_loop_state.hpp"

#include <limits>
#include <string>
#include <sys/socket.h>
#include <sys/uio.h>

namespace husk {

namespace {

    // The kernel's UIO_MAXIOV: longer vectors fail with EINVAL anyway, say why up front.
    constexpr size_t max_iovecs = 1024;

    Result<unsigned> checked_length(size_t length)
    {
        // The SQE length field is 32 bits wide.
        if (length > std::numeric_limits<uint32_t>::max())
            return fail("io_uring transfer of " + std::to_string(length) + " bytes exceeds the 4 GiB SQE limit");
        return static_cast<unsigned>(length);
    }

    Result<unsigned> checked_iovec_count(size_t count)
    {
        if (count > max_iovecs)
            return fail("io_uring vector of " + std::to_string(count) + " buffers exceeds the kernel's "
                + std::to_string(max_iovecs));
        return static_cast<unsigned>(count);
    }

} // namespace

Result<OperationId> EventLoop::State::submit_transfer(IoOpcode opcode, FixedFile file, Completion completion,
    std::function<void(io_uring_sqe*, Operation&)> prepare, bool waits_for_readiness)
{
    TRY(check_file(file));
    Operation operation;
    operation.kind = OperationKind::Transfer;
    operation.file = file;
    operation.completion = std::move(completion);
    operation.waits_for_readiness = waits_for_readiness;
    return submit(opcode, std::move(operation), std::move(prepare));
}

Result<OperationId> EventLoop::poll(FixedFile file, uint32_t events, Multishot multishot, Completion completion)
{
    State& state = *m_state;
    TRY(state.check_file(file));
    Operation operation;
    operation.kind = OperationKind::Poll;
    operation.file = file;
    operation.poll_events = events;
    operation.multishot = multishot;
    operation.completion = std::move(completion);
    operation.waits_for_readiness = true;
    return state.submit(IoOpcode::Poll, std::move(operation),
        [&state](io_uring_sqe* sqe, Operation& stored) { state.prepare_poll(sqe, stored); });
}

Result<OperationId> EventLoop::read(FixedFile file, std::span<uint8_t> buffer, uint64_t offset, Completion completion)
{
    unsigned length = TRY(checked_length(buffer.size()));
    return m_state->submit_transfer(IoOpcode::Read, file, std::move(completion), [=](io_uring_sqe* sqe, Operation&) {
        io_uring_prep_read(sqe, static_cast<int>(file.index), buffer.data(), length, offset);
    }, offset == stream_offset);
}

Result<OperationId> EventLoop::write(
    FixedFile file, std::span<uint8_t const> buffer, uint64_t offset, Completion completion)
{
    unsigned length = TRY(checked_length(buffer.size()));
    return m_state->submit_transfer(IoOpcode::Write, file, std::move(completion), [=](io_uring_sqe* sqe, Operation&) {
        io_uring_prep_write(sqe, static_cast<int>(file.index), buffer.data(), length, offset);
    }, offset == stream_offset);
}

Result<OperationId> EventLoop::readv(
    FixedFile file, std::span<iovec const> buffers, uint64_t offset, Completion completion)
{
    unsigned count = TRY(checked_iovec_count(buffers.size()));
    return m_state->submit_transfer(IoOpcode::ReadV, file, std::move(completion), [=](io_uring_sqe* sqe, Operation&) {
        io_uring_prep_readv(sqe, static_cast<int>(file.index), buffers.data(), count, offset);
    }, offset == stream_offset);
}

Result<OperationId> EventLoop::writev(
    FixedFile file, std::span<iovec const> buffers, uint64_t offset, Completion completion)
{
    unsigned count = TRY(checked_iovec_count(buffers.size()));
    return m_state->submit_transfer(IoOpcode::WriteV, file, std::move(completion), [=](io_uring_sqe* sqe, Operation&) {
        io_uring_prep_writev(sqe, static_cast<int>(file.index), buffers.data(), count, offset);
    }, offset == stream_offset);
}

Result<OperationId> EventLoop::recv(FixedFile file, std::span<uint8_t> buffer, int msg_flags, Completion completion)
{
    TRY(checked_length(buffer.size()));
    return m_state->submit_transfer(IoOpcode::Recv, file, std::move(completion), [=](io_uring_sqe* sqe, Operation&) {
        io_uring_prep_recv(sqe, static_cast<int>(file.index), buffer.data(), buffer.size(), msg_flags);
    }, true);
}

Result<OperationId> EventLoop::send(
    FixedFile file, std::span<uint8_t const> buffer, int msg_flags, Completion completion)
{
    TRY(checked_length(buffer.size()));
    return m_state->submit_transfer(IoOpcode::Send, file, std::move(completion), [=](io_uring_sqe* sqe, Operation&) {
        io_uring_prep_send(sqe, static_cast<int>(file.index), buffer.data(), buffer.size(), msg_flags);
    }, true);
}

Result<OperationId> EventLoop::fsync(FixedFile file, Sync sync, Completion completion)
{
    unsigned flags = sync == Sync::Data ? IORING_FSYNC_DATASYNC : 0;
    return m_state->submit_transfer(IoOpcode::Fsync, file, std::move(completion),
        [=](io_uring_sqe* sqe, Operation&) { io_uring_prep_fsync(sqe, static_cast<int>(file.index), flags); }, false);
}

Result<OperationId> EventLoop::fallocate(
    FixedFile file, int mode, uint64_t offset, uint64_t length, Completion completion)
{
    if (offset > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
        || length > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - offset)
        return fail("fallocate range " + std::to_string(offset) + "+" + std::to_string(length) + " overflows off_t");
    return m_state->submit_transfer(
        IoOpcode::Fallocate, file, std::move(completion), [=](io_uring_sqe* sqe, Operation&) {
            // liburing's helper takes the length as an off_t-sized integer; it travels in sqe->addr.
            io_uring_prep_fallocate(
                sqe, static_cast<int>(file.index), mode, static_cast<off_t>(offset), static_cast<off_t>(length));
        }, false);
}

Result<OperationId> EventLoop::accept(FixedFile listener, Completion completion)
{
    return m_state->submit_transfer(
        IoOpcode::Accept, listener, std::move(completion), [=](io_uring_sqe* sqe, Operation&) {
            // Close-on-exec: the VMM never hands guest-facing sockets to a child by accident.
            io_uring_prep_accept(sqe, static_cast<int>(listener.index), nullptr, nullptr, SOCK_CLOEXEC);
        }, true);
}

Result<OperationId> EventLoop::timeout(std::chrono::nanoseconds duration, Completion completion)
{
    if (duration.count() < 0)
        return fail("io_uring timeout of " + std::to_string(duration.count()) + " ns is negative");
    Operation operation;
    operation.kind = OperationKind::Timeout;
    operation.timeout.tv_sec = duration.count() / 1'000'000'000;
    operation.timeout.tv_nsec = duration.count() % 1'000'000'000;
    operation.completion = std::move(completion);
    return m_state->submit(IoOpcode::Timeout, std::move(operation), [](io_uring_sqe* sqe, Operation& stored) {
        // count 0: a pure timer, not "after N other completions".
        io_uring_prep_timeout(sqe, &stored.timeout, 0, 0);
    });
}

} // namespace husk
