// Ending a process as the guest process ended.
#include "sdk/oci/exit_like.hpp"

#include "husk/exit_status.hpp"

#include <csignal>
#include <sys/resource.h>
#include <unistd.h>

namespace husk::oci {

bool signal_terminates(int signo)
{
    switch (signo) {
    case SIGCHLD:
    case SIGCONT:
    case SIGURG:
    case SIGWINCH:
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
        return false;
    default:
        return signo >= 1 && signo <= SIGRTMAX;
    }
}

void die_of_signal(int signo)
{
    rlimit no_core { 0, 0 };
    setrlimit(RLIMIT_CORE, &no_core);
    if (signal_terminates(signo)) {
        signal(signo, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, signo);
        sigprocmask(SIG_UNBLOCK, &set, nullptr);
        raise(signo);
    }
    _exit(128 + (signo & 0x7f));
}

void exit_like(RunResult const& result)
{
    if (result.status == RunStatus::Signaled || result.status == RunStatus::TimedOut)
        die_of_signal(result.signal);
    _exit(docker_exit_status(result));
}

} // namespace husk::oci
