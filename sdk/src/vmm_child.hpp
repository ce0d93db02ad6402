// VmmChild: husk-vmm as a supervised child process. It is forked from one long-lived thread with
// PR_SET_PDEATHSIG=SIGKILL (the death signal follows the forking *thread*, so forking from a
// caller's short-lived thread would kill the VM when that thread ends), in its own process group
// (a terminal's Ctrl-C reaches the CLI, which forwards it to the job, not the VMM), with its
// stdout and stderr in a log file. A pidfd lets the agent client notice its death at once.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace husk::detail {

struct ChildExit {
    bool signaled { false };
    int value { 0 }; // exit status, or the signal
};

class VmmChild {
public:
    // argv[0] must be a path. Errors (kind VmmStartFailed) when fork or exec fails.
    static Result<VmmChild> spawn(std::vector<std::string> const& argv, std::string const& log_path);
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
    // Kills (if needed) and reaps; the child is gone afterwards.
    void reap();

private:
    VmmChild(pid_t pid, Fd pidfd)
        : m_pid(pid)
        , m_pidfd(std::move(pidfd))
    {
    }
    pid_t m_pid { -1 };
    Fd m_pidfd;
};

// "exited with status 3 (the guest crashed or halted)", "was killed by signal 9 (SIGKILL ...)".
std::string describe_vmm_exit(ChildExit exit);

// The last `count` lines of a log file, oldest first (reads at most the last 64 KiB).
std::vector<std::string> last_lines(std::string const& path, size_t count);

} // namespace husk::detail
