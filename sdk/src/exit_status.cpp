// RunResult → docker-style exit status.
#include "husk/exit_status.hpp"

namespace husk {

int docker_exit_status(RunResult const& result)
{
    switch (result.status) {
    case RunStatus::Exited:
        return result.exit_code >= 0 && result.exit_code <= 255 ? result.exit_code : exit_status_runtime_error;
    case RunStatus::Signaled:
    case RunStatus::TimedOut:
        return result.signal > 0 && result.signal < 128 ? exit_status_signal_base + result.signal
                                                        : exit_status_runtime_error;
    case RunStatus::SpawnFailed:
        switch (result.spawn_error) {
        case SpawnErrorKind::NotFound:
            return exit_status_not_found;
        case SpawnErrorKind::NotExecutable:
            return exit_status_cannot_execute;
        default:
            return exit_status_runtime_error;
        }
    }
    return exit_status_runtime_error;
}

} // namespace husk
