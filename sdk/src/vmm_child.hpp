// VmmChild: husk-vmm as a supervised child process. It is started (a vfork-style clone, then
// exec) from one long-lived thread with
// PR_SET_PDEATHSIG=SIGKILL (the death signal follows the forking *thread*, so forking from a
// caller's short-lived thread would kill the VM when that thread ends), in its own process group
// (a terminal's Ctrl-C reaches the CLI, which forwards it to the job, not the VMM), with its
// stdout and stderr in a log file. A pidfd lets the agent client notice its death at once.
// A VmmChild can also stand for a husk-vmm this process did not start (a detached sandbox that
// another process connects to): it is then watched and killed through the pidfd, never reaped.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace husk::detail {

// The descriptor number a child gets VmmChild::spawn's `pass_fd` as.
inline constexpr int passed_fd_number = 4;

struct ChildExit {
    bool signaled { false };
    int value { 0 }; // exit status, or the signal
    bool known { true }; // false for an adopted process: it has exited, how is not ours to see
};

class VmmChild {
public:
    // argv[0] must be a path. Errors (kind VmmStartFailed) when clone or exec fails. `pass_fd`
    // (when not -1) is inherited as descriptor passed_fd_number: how husk-vmm gets passt's
    // socket and passt its end (both started this way).
    static Result<VmmChild> spawn(std::vector<std::string> const& argv, std::string const& log_path, int pass_fd = -1);
    // A running process that is not our child. Errors (kind VmDied) when it no longer exists.
    static Result<VmmChild> adopt(pid_t pid);
    VmmChild(VmmChild&& other) noexcept;
    VmmChild& operator=(VmmChild&&) = delete;
    VmmChild(VmmChild const&) = delete;
    // SIGKILLs and reaps a child still running.
    ~VmmChild();

    pid_t pid() const { return m_pid; }
    int pidfd() const { return m_pidfd.get(); }

    // How it ended, without reaping it; nothing while it runs.
    std::optional<ChildExit> peek_exit() const;
    // True once it has exited, waiting at most `timeout`.
    bool wait_exit(std::chrono::milliseconds timeout) const;
    void kill() const;
    // SIGTERM: husk-vmm stops its VM, reports and exits (a jail launcher passes it on).
    void terminate() const;
    // Kills (if needed) and reaps; the child is gone afterwards. An adopted process is killed
    // and waited for (briefly), as it cannot be reaped here.
    void reap();
    // Lets the process run on unowned: a thread waits for its exit, reaps it (no zombie is left)
    // and then runs `after_exit`. It still dies with this process (the parent-death signal).
    void release(std::function<void()> after_exit);
    // Forgets the process without touching it (for an adopted one that stays someone else's).
    void forget()
    {
        m_pid = -1;
        m_pidfd.reset();
    }

private:
    VmmChild(pid_t pid, Fd pidfd, bool is_child)
        : m_pid(pid)
        , m_pidfd(std::move(pidfd))
        , m_is_child(is_child)
    {
    }
    pid_t m_pid { -1 };
    Fd m_pidfd;
    bool m_is_child { true };
};

// "exited with status 3 (the guest crashed or halted)", "was killed by signal 9 (SIGKILL ...)".
std::string describe_vmm_exit(ChildExit exit);

// The last `count` lines of a log file, oldest first (reads at most the last 64 KiB).
std::vector<std::string> last_lines(std::string const& path, size_t count);

} // namespace husk::detail
