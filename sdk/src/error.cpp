// Names of the SDK's error kinds.
#include "husk/error.hpp"

namespace husk {

std::string_view error_kind_name(ErrorKind kind)
{
    switch (kind) {
    case ErrorKind::Other:
        return "other";
    case ErrorKind::BadConfig:
        return "bad-config";
    case ErrorKind::VmmStartFailed:
        return "vmm-start-failed";
    case ErrorKind::GuestNotReady:
        return "guest-not-ready";
    case ErrorKind::AgentDisconnected:
        return "agent-disconnected";
    case ErrorKind::VmDied:
        return "vm-died";
    case ErrorKind::Timeout:
        return "timeout";
    case ErrorKind::Guest:
        return "guest";
    }
    return "unknown";
}

} // namespace husk
