// Timer: a one-shot monotonic timerfd for job timeouts, output drain deadlines and flush limits.
// A separate fd per deadline keeps every wake-up an ordinary epoll event with its own handler.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <chrono>

namespace husk::agent {

class Timer {
public:
    static Result<Timer> create();

    int fd() const { return m_fd.get(); }
    // Fires once after `delay` (a zero delay fires at once); replaces any earlier arming.
    Result<void> arm(std::chrono::milliseconds delay);
    Result<void> disarm();
    // Clears the readable state; false when the timer had not expired (a readiness event that
    // went stale because the timer was re-armed or disarmed meanwhile).
    bool consume();

private:
    explicit Timer(Fd fd)
        : m_fd(std::move(fd))
    {
    }
    Fd m_fd;
};

} // namespace husk::agent
