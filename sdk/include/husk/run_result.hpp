// RunResult: how a job in a sandbox ended and what it printed. A job that exits non-zero, dies
// of a signal, times out or cannot be started is a result, never an error: errors are kept for
// trouble with the sandbox itself (see error.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace husk {

enum class RunStatus : uint8_t {
    Exited, ///< the program exited; see exit_code
    Signaled, ///< a signal killed it; see signal
    TimedOut, ///< it ran past its timeout and was killed with `signal`
    SpawnFailed, ///< it never ran; see spawn_error and spawn_message
};

enum class SpawnErrorKind : uint8_t {
    None,
    NotFound, ///< no such program (docker: 127)
    NotExecutable, ///< found but cannot be executed: permissions, format (docker: 126)
    BadWorkdir, ///< the working directory is missing or not a directory
    Other,
};

struct RunResult {
    RunStatus status { RunStatus::Exited };
    int exit_code { -1 }; ///< 0..255 when status is Exited, else -1
    int signal { 0 }; ///< the killing signal when Signaled or TimedOut, else 0
    SpawnErrorKind spawn_error { SpawnErrorKind::None };
    std::string spawn_message; ///< the agent's explanation when SpawnFailed

    /// Raw bytes as the job wrote them (empty when output went to callbacks).
    std::string stdout_data;
    std::string stderr_data;
    /// Output beyond the job's output limit was dropped.
    bool stdout_truncated { false };
    bool stderr_truncated { false };

    std::chrono::microseconds guest_duration {}; ///< spawn to exit, measured by the agent
    std::chrono::microseconds wall_duration {}; ///< request sent to result received, on the host

    /// Exited with code 0.
    bool ok() const { return status == RunStatus::Exited && exit_code == 0; }
    /// Killed at its timeout. Derived from status (it used to be a field of its own that could
    /// disagree with it).
    bool timed_out() const { return status == RunStatus::TimedOut; }
};

} // namespace husk
