// EventFd: an eventfd(2) counter used to signal between threads and to KVM (irqfd, ioeventfd).
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <cstdint>

namespace husk {

class EventFd {
public:
    enum class Mode { Blocking, NonBlocking };
    static Result<EventFd> create(Mode mode = Mode::NonBlocking);

    int fd() const { return m_fd.get(); }
    // Adds one to the counter. Never fails for a live eventfd short of counter overflow, which
    // cannot happen with +1 increments in practice; the error is still reported.
    Result<void> signal() const;
    // Returns the counter and resets it; 0 when nothing was signalled (non-blocking mode).
    Result<uint64_t> consume() const;

private:
    explicit EventFd(Fd fd)
        : m_fd(std::move(fd))
    {
    }
    Fd m_fd;
};

} // namespace husk
