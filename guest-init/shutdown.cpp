// Shutdown. Polling waitpid(WNOHANG) every few milliseconds is enough for a grace period of at
// most 200 ms, and ends at once when nothing is left, the usual case after a job exits.
#include "guest-init/shutdown.hpp"

#include "guest-init/console.hpp"

#include <cerrno>
#include <csignal>
#include <ctime>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

namespace husk::init {

namespace {

    constexpr std::chrono::milliseconds reap_poll_interval { 5 };
    constexpr std::chrono::milliseconds kill_reap_limit { 1000 };

    enum class Reaped { All, SomeLeft };

    // Reaps children until there are none (ECHILD) or `limit` has passed.
    Reaped reap_all(std::chrono::milliseconds limit)
    {
        auto deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            int status = 0;
            pid_t pid = waitpid(-1, &status, WNOHANG);
            if (pid > 0)
                continue;
            if (pid < 0 && errno == ECHILD)
                return Reaped::All;
            if (pid < 0 && errno == EINTR)
                continue;
            if (std::chrono::steady_clock::now() >= deadline)
                return Reaped::SomeLeft;
            auto interval = std::chrono::duration_cast<std::chrono::nanoseconds>(reap_poll_interval);
            timespec sleep_for { 0, static_cast<long>(interval.count()) };
            nanosleep(&sleep_for, nullptr);
        }
    }

    // kill(-1) signals every process except PID 1; ESRCH means there was none.
    enum class Signalled { Some, None };
    Signalled signal_everyone(int signal)
    {
        if (kill(-1, signal) < 0)
            return errno == ESRCH ? Signalled::None : Signalled::Some;
        return Signalled::Some;
    }

} // namespace

void terminate_all_processes(std::chrono::milliseconds grace)
{
    if (signal_everyone(SIGTERM) == Signalled::None) {
        reap_all(std::chrono::milliseconds(0)); // zombies only, if any
        return;
    }
    if (reap_all(grace) == Reaped::All)
        return;
    signal_everyone(SIGKILL);
    if (reap_all(kill_reap_limit) == Reaped::SomeLeft)
        console_message("processes survived SIGKILL; shutting down anyway");
}

void reset_machine(StatusReporter const* reporter)
{
    sync();
    if (reporter)
        reporter->report_shutdown_intent();
    reboot(RB_AUTOBOOT);
    console_message("reboot() returned; waiting forever (PID 1 must not exit)");
    for (;;)
        pause();
}

} // namespace husk::init
