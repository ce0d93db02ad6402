// ChildSignal: SIGCHLD as an epoll-able signalfd. Creating it blocks SIGCHLD and SIGPIPE in the
// calling thread (threads started afterwards inherit the mask) and restores the previous mask on
// destruction. SIGPIPE is blocked rather than ignored because an ignored disposition would be
// inherited across execve() by every job; a blocked one is reset in the child (spawn.cpp) and the
// pending SIGPIPE a write to a closed stdin pipe raises is discarded here.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <csignal>
#include <memory>

namespace husk::agent {

class ChildSignal {
public:
    static Result<std::unique_ptr<ChildSignal>> create();
    ~ChildSignal();
    ChildSignal(ChildSignal const&) = delete;
    ChildSignal& operator=(ChildSignal const&) = delete;

    int fd() const { return m_fd.get(); }
    // Reads every queued notification; SIGCHLDs coalesce, so the caller then reaps in a loop.
    void drain();

    // After EPIPE from write() on a pipe: takes the thread's pending SIGPIPE so it cannot fire
    // once the mask is restored.
    static void discard_pending_sigpipe();

private:
    ChildSignal(Fd fd, sigset_t previous)
        : m_fd(std::move(fd))
        , m_previous(previous)
    {
    }
    Fd m_fd;
    sigset_t m_previous;
};

} // namespace husk::agent
