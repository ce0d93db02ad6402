// The docker/podman exit-status convention the husk CLI follows, for programs that want to behave
// the same: the job's own code; 125 when husk itself failed; 126 when the program cannot be
// executed; 127 when it does not exist; 128+N when signal N killed it (also after a timeout).
#pragma once

#include "husk/run_result.hpp"

namespace husk {

inline constexpr int exit_status_runtime_error = 125;
inline constexpr int exit_status_cannot_execute = 126;
inline constexpr int exit_status_not_found = 127;
inline constexpr int exit_status_signal_base = 128;

/// The exit status a shell would see for this result.
int docker_exit_status(RunResult const& result);

} // namespace husk
