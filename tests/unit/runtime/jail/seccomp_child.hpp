// Test support: runs code in a forked child that first installs one thread kind's seccomp
// filter, and reports how the child ended. A filter is irreversible, so it never touches the
// test process itself.
#pragma once

#include "runtime/jail/seccomp.hpp"

#include <csignal>
#include <functional>
#include <string>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace husk::testing_jail {

// Exit codes of the child other than its action's own.
inline constexpr int install_failed_code = 100;
inline constexpr int action_returned_code = 0;

// Ends the child with a syscall the kind allows: only the main thread may call exit_group;
// the other kinds end with exit, which ends a single-threaded process as well.
[[noreturn]] inline void end_child(ThreadKind kind, int code)
{
    ::syscall(kind == ThreadKind::Main ? SYS_exit_group : SYS_exit, code);
    __builtin_unreachable();
}

struct ChildEnd {
    bool exited { false };
    int exit_code { -1 };
    int signal { 0 };

    bool killed_by(int wanted) const { return !exited && signal == wanted; }
    bool exited_with(int wanted) const { return exited && exit_code == wanted; }
    std::string describe() const
    {
        return exited ? "exited with " + std::to_string(exit_code) : "killed by signal " + std::to_string(signal);
    }
};

// Runs `action` in a forked child and returns how the child ended; the action's return value
// becomes the exit code. For jail steps that must never touch the test process.
inline ChildEnd run_in_child(std::function<int()> const& action)
{
    pid_t pid = ::fork();
    if (pid == 0)
        ::_exit(action());
    ChildEnd end;
    if (pid < 0)
        return end;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) { }
    end.exited = WIFEXITED(status);
    end.exit_code = end.exited ? WEXITSTATUS(status) : -1;
    end.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return end;
}

// `prepare` runs in the child before install_seccomp(kind), `action` after it; the action's
// return value becomes the exit code.
inline ChildEnd run_filtered(
    ThreadKind kind, std::function<int()> const& action, std::function<void()> const& prepare = [] {})
{
    return run_in_child([&]() -> int {
        prepare();
        if (!install_seccomp(kind))
            return install_failed_code;
        end_child(kind, action());
    });
}

} // namespace husk::testing_jail
