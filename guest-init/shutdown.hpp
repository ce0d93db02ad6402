// Ending the guest: stop every process left, flush, tell the host the reset is intended, reset.
#pragma once

#include "guest-init/status_reporter.hpp"

#include <chrono>

namespace husk::init {

// Upper bound on the SIGTERM grace period; it ends early once every process is gone.
inline constexpr std::chrono::milliseconds termination_grace { 200 };

// SIGTERM to every process but PID 1, reap until none is left or `grace` passes, then SIGKILL
// and reap what is left (bounded too, so a process stuck in the kernel cannot hold shutdown).
// Only for PID 1 inside the guest: kill(-1) anywhere else hits the caller's whole user.
void terminate_all_processes(std::chrono::milliseconds grace);

// sync(), the shutdown intent (when the status device is there), reboot(RB_AUTOBOOT). The kernel
// runs with reboot=k, so the VMM sees the keyboard-controller reset. PID 1 must never exit, so if
// reboot() returns this waits forever.
[[noreturn]] void reset_machine(StatusReporter const* reporter);

} // namespace husk::init
