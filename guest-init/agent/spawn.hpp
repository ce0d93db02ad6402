// Starting one Exec: the pure plan (environment, PATH candidates; unit-tested), the fork/exec
// itself with the job's pipes, and the close-on-exec report pipe through which the child tells
// the agent which step failed (cwd, user, rlimit, execve) and with which errno. Nothing here
// blocks: the report is read when the pipe becomes readable or once the child has been reaped.
#pragma once

#include "guest-init/protocol/messages.hpp"
#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace husk::agent {

struct SpawnDefaults {
    std::string path; // PATH for the search (and the job) when the Exec sets none
    std::string cwd; // working directory when the Exec's cwd is empty
};

enum class StdinMode { Pipe, DevNull };

// Everything the child needs, built before fork() so the child only makes system calls.
struct SpawnPlan {
    std::vector<std::string> argv;
    std::vector<std::string> env;
    std::vector<std::string> candidates; // where execve() is tried, in order
    std::string cwd;
    uint32_t uid { 0 }; // 0: keep the agent's (root in the guest)
    uint32_t gid { 0 };
    std::vector<protocol::Rlimit> rlimits;
    StdinMode stdin_mode { StdinMode::DevNull };
};

// The job's environment: the Exec's entries with a later NAME= overriding an earlier one (as with
// `docker run -e`), plus PATH=`default_path` when the Exec sets no PATH, so that programs that
// start others find them.
std::vector<std::string> merge_environment(std::vector<std::string> const& env, std::string_view default_path);

SpawnPlan plan_spawn(protocol::Exec const& exec, SpawnDefaults const& defaults);

// The agent's ends of a started job; all non-blocking and close-on-exec.
struct SpawnedProcess {
    pid_t pid { -1 };
    Fd stdin_pipe; // invalid for StdinMode::DevNull
    Fd stdout_pipe;
    Fd stderr_pipe;
    Fd report_pipe; // EOF: execve succeeded; a ChildFailure record: it did not
};

// Forks and starts the plan in a new session (so its own process group, pgid == pid). Fails only
// for errors before fork (pipes, fork itself); errors in the child arrive on report_pipe.
Result<SpawnedProcess> start_process(SpawnPlan const& plan);

// The step of the child's set-up that failed, in the order the child takes them.
enum class ChildStep : uint32_t { Stdio = 1, Rlimits = 2, User = 3, Cwd = 4, Exec = 5 };

// What the child writes to the report pipe before _exit(127). Raw host layout: both ends are the
// same binary.
struct ChildFailure {
    ChildStep step;
    int32_t errno_value;
};
static_assert(sizeof(ChildFailure) == 8);

enum class ReportStatus { Pending, Succeeded, Failed };
struct SpawnReport {
    ReportStatus status { ReportStatus::Pending };
    protocol::SpawnFailed failure {}; // for Failed
};

// Reads the report pipe without blocking. Pending means nothing is known yet (the child has not
// reached execve); once the child has exited, `ChildState::Reaped` turns "no record" into success,
// since a failing child writes its record before it exits.
enum class ChildState { MayBeRunning, Reaped };
SpawnReport read_spawn_report(int report_fd, SpawnPlan const& plan, ChildState state);

// execve() errno to the protocol's spawn error: ENOENT/ENOTDIR not-found, EACCES
// permission-denied, ENOEXEC not-executable, anything else other.
protocol::SpawnError spawn_error_from_exec_errno(int error);

} // namespace husk::agent
