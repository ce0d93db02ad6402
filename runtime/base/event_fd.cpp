// EventFd wrapper.
#include "runtime/base/event_fd.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

namespace husk {

Result<EventFd> EventFd::create(Mode mode)
{
    int flags = EFD_CLOEXEC | (mode == Mode::NonBlocking ? EFD_NONBLOCK : 0);
    int fd = ::eventfd(0, flags);
    if (fd < 0)
        return fail_errno("eventfd");
    return EventFd(Fd(fd));
}

Result<void> EventFd::signal() const
{
    uint64_t one = 1;
    for (;;) {
        if (::write(m_fd.get(), &one, sizeof one) == sizeof one)
            return {};
        if (errno != EINTR)
            return fail_errno("eventfd write");
    }
}

Result<uint64_t> EventFd::consume() const
{
    uint64_t value = 0;
    for (;;) {
        if (::read(m_fd.get(), &value, sizeof value) == sizeof value)
            return value;
        if (errno == EAGAIN)
            return uint64_t { 0 };
        if (errno != EINTR)
            return fail_errno("eventfd read");
    }
}

} // namespace husk
