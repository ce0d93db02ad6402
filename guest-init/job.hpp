// The job: the one program husk-init runs for the host. Spawning (fork + execve with our own PATH
// search), waiting while reaping adopted orphans, and the pure mappings from errno and wait status
// to what the status device reports.
#pragma once

#include "guest-init/protocol/status_port.hpp"
#include "runtime/base/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace husk::init {

using status_port::SpawnError;

// How the job ended, as the host learns it.
struct JobOutcome {
    enum class Kind { Exited, Signaled, SpawnFailed };
    Kind kind;
    uint32_t value; // exit code 0..255, signal number, or SpawnError

    // Exit codes are 8 bits on Linux; anything wider is truncated the same way the kernel does.
    static constexpr uint32_t exit_code_mask = 0xff;
    static JobOutcome exited(int code) { return { Kind::Exited, static_cast<uint32_t>(code) & exit_code_mask }; }
    static JobOutcome signaled(int signal) { return { Kind::Signaled, static_cast<uint32_t>(signal) }; }
    static JobOutcome spawn_failed(SpawnError error) { return { Kind::SpawnFailed, static_cast<uint32_t>(error) }; }
    bool operator==(JobOutcome const&) const = default;
};

// ENOENT/ENOTDIR → NotFound (127), EACCES → PermissionDenied and ENOEXEC → NotExecutable (126),
// anything else → Other (125).
SpawnError spawn_error_from_errno(int error);

// Exited or killed; nothing for a stop/continue report, which does not end the job.
std::optional<JobOutcome> outcome_from_wait_status(int status);

// Where execve() is tried for `file`: the file itself when it contains a slash, else each PATH
// entry in order (an empty entry means the current directory, as in execvp).
std::vector<std::string> exec_candidates(std::string_view file, std::string_view path);

// Folds the errno of each failed execve() over the candidates into the one to report, as execvp
// does: a missing candidate lets the search go on, EACCES is remembered and reported if nothing
// better turns up, anything else (ENOEXEC, E2BIG, ...) ends the search with that error. Unlike
// execvp we never retry an ENOEXEC file with /bin/sh: a file without a valid ELF or #! header is
// reported as not executable.
class ExecErrorFold {
public:
    enum class Next { TryNextCandidate, Stop };
    Next record(int error);
    int result() const { return m_result; }

private:
    int m_result { 0 };
};

// Starts argv[0] (searched in $PATH) in its own session and process group with fds 0-2 inherited.
// An exec failure in the child comes back through a close-on-exec pipe, so the error's
// errno_value tells "not found" from "permission denied" from "not executable".
Result<pid_t> spawn_job(std::vector<std::string> const& argv);

// Blocks until `job` ends, reaping every other child on the way (PID 1 inherits all orphans).
Result<JobOutcome> wait_for_job(pid_t job);

} // namespace husk::init
