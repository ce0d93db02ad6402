// StopReason: why a VM stopped. Header-only so option/exit-status code can use it without
// linking the machine.
#pragma once

namespace husk {

enum class StopReason {
    GuestShutdown, // the guest reset itself after husk-init announced a clean shutdown
    GuestCrashed, // reset without that announcement (panic, init died) or a triple fault
    GuestHalted, // every vCPU halted with interrupts off: nothing can ever run again
    Timeout, // --timeout elapsed
    KvmError, // KVM refused to go on: internal error, failed entry, unknown exit
    HostSignal, // SIGINT/SIGTERM reached husk-vmm
    VmmError, // husk-vmm itself failed (setup, a device, a system call)
};

// The stop_reason string of the JSON report.
constexpr char const* stop_reason_name(StopReason reason)
{
    switch (reason) {
    case StopReason::GuestShutdown:
        return "guest-shutdown";
    case StopReason::GuestCrashed:
        return "guest-crashed";
    case StopReason::GuestHalted:
        return "guest-halted";
    case StopReason::Timeout:
        return "timeout";
    case StopReason::KvmError:
        return "kvm-error";
    case StopReason::HostSignal:
        return "host-signal";
    case StopReason::VmmError:
        return "vmm-error";
    }
    return "vmm-error";
}

} // namespace husk
