// AioContext: the native AIO system calls, retried on EINTR.
#include "bench/blk/aio_context.hpp"

#include <cerrno>
#include <sys/syscall.h>
#include <unistd.h>

namespace husk::bench {

Result<AioContext> AioContext::create(unsigned max_events)
{
    aio_context_t context = 0;
    if (::syscall(SYS_io_setup, max_events, &context) < 0)
        return fail_errno("io_setup");
    return AioContext(context);
}

AioContext::~AioContext()
{
    // io_destroy waits for the reads still in flight, so their buffers may be freed afterwards.
    if (m_context != 0)
        ::syscall(SYS_io_destroy, m_context);
}

Result<void> AioContext::submit_all(std::span<iocb*> iocbs)
{
    while (!iocbs.empty()) {
        long submitted = ::syscall(SYS_io_submit, m_context, static_cast<long>(iocbs.size()), iocbs.data());
        if (submitted < 0 && errno == EINTR)
            continue;
        if (submitted < 0)
            return fail_errno("io_submit");
        if (submitted == 0)
            return fail("io_submit took none of " + std::to_string(iocbs.size()) + " reads");
        iocbs = iocbs.subspan(static_cast<size_t>(submitted));
    }
    return {};
}

Result<size_t> AioContext::wait(size_t minimum, std::span<io_event> events)
{
    for (;;) {
        long got = ::syscall(SYS_io_getevents, m_context, static_cast<long>(minimum), static_cast<long>(events.size()),
            events.data(), nullptr);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return fail_errno("io_getevents");
        return static_cast<size_t>(got);
    }
}

} // namespace husk::bench
