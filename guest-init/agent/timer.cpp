// Timer on timerfd(2).
#include "guest-init/agent/timer.hpp"

#include <cstdint>
#include <sys/timerfd.h>
#include <unistd.h>

namespace husk::agent {

namespace {

    constexpr long nanoseconds_per_second = 1'000'000'000;
    constexpr long minimum_delay_ns = 1; // an all-zero it_value would disarm instead of firing

} // namespace

Result<Timer> Timer::create()
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0)
        return fail_errno("timerfd_create");
    return Timer(Fd(fd));
}

Result<void> Timer::arm(std::chrono::milliseconds delay)
{
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(delay).count();
    if (ns < minimum_delay_ns)
        ns = minimum_delay_ns;
    itimerspec spec {};
    spec.it_value.tv_sec = static_cast<time_t>(ns / nanoseconds_per_second);
    spec.it_value.tv_nsec = static_cast<long>(ns % nanoseconds_per_second);
    if (timerfd_settime(m_fd.get(), 0, &spec, nullptr) < 0)
        return fail_errno("timerfd_settime");
    return {};
}

Result<void> Timer::disarm()
{
    itimerspec spec {};
    if (timerfd_settime(m_fd.get(), 0, &spec, nullptr) < 0)
        return fail_errno("timerfd_settime");
    return {};
}

bool Timer::consume()
{
    uint64_t expirations = 0;
    // EAGAIN: not expired since the last arming (timerfd_settime resets the count).
    return read(m_fd.get(), &expirations, sizeof expirations) == sizeof expirations && expirations > 0;
}

} // namespace husk::agent
