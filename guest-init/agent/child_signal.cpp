// ChildSignal on signalfd(2).
#include "guest-init/agent/child_signal.hpp"

#include <array>
#include <ctime>
#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace husk::agent {

namespace {

    constexpr size_t infos_per_read = 16;

    sigset_t blocked_signals()
    {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        sigaddset(&set, SIGPIPE);
        return set;
    }

} // namespace

Result<std::unique_ptr<ChildSignal>> ChildSignal::create()
{
    sigset_t block = blocked_signals();
    sigset_t previous;
    if (int error = pthread_sigmask(SIG_BLOCK, &block, &previous); error != 0)
        return fail_errno("pthread_sigmask", error);
    sigset_t child;
    sigemptyset(&child);
    sigaddset(&child, SIGCHLD);
    int fd = signalfd(-1, &child, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        auto error = fail_errno("signalfd");
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        return error;
    }
    return std::unique_ptr<ChildSignal>(new ChildSignal(Fd(fd), previous));
}

ChildSignal::~ChildSignal()
{
    // Restore only our two signals: the rest of the mask may have changed since.
    sigset_t unblock;
    sigemptyset(&unblock);
    for (int signal : { SIGCHLD, SIGPIPE }) {
        if (!sigismember(&m_previous, signal))
            sigaddset(&unblock, signal);
    }
    pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
}

void ChildSignal::drain()
{
    std::array<signalfd_siginfo, infos_per_read> infos;
    while (read(m_fd.get(), infos.data(), sizeof infos) > 0) { }
}

void ChildSignal::discard_pending_sigpipe()
{
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    timespec no_wait {};
    while (sigtimedwait(&pipe_only, nullptr, &no_wait) == SIGPIPE) { }
}

} // namespace husk::agent
