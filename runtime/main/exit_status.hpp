// husk-vmm's own exit status. It describes how the VM ended, never the guest job's status
// (that travels in the JSON report), so callers can tell "job failed" from "VM failed".
#pragma once

#include "runtime/vmm/stop_reason.hpp"

namespace husk {

enum class VmmExitStatus : int {
    CleanShutdown = 0,
    VmmError = 1, // VMM or KVM error, including setup failures
    Usage = 2,
    GuestFailed = 3, // crashed or halted
    Timeout = 4,
    HostSignal = 5,
};

constexpr VmmExitStatus vmm_exit_status(StopReason reason)
{
    switch (reason) {
    case StopReason::GuestShutdown:
        return VmmExitStatus::CleanShutdown;
    case StopReason::GuestCrashed:
    case StopReason::GuestHalted:
        return VmmExitStatus::GuestFailed;
    case StopReason::Timeout:
        return VmmExitStatus::Timeout;
    case StopReason::HostSignal:
        return VmmExitStatus::HostSignal;
    case StopReason::KvmError:
    case StopReason::VmmError:
        return VmmExitStatus::VmmError;
    }
    return VmmExitStatus::VmmError;
}

} // namespace husk
