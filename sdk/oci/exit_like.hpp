// The monitor and each exec process end the way the guest process did, because conmon and the
// containerd shim read the container's status from waitpid() on them: exit with its code, or die
// of its signal (no core dump).
#pragma once

#include "husk/run_result.hpp"

namespace husk::oci {

/// Dies of `signo`; exits 128+signo if the signal cannot kill (e.g. SIGCHLD).
[[noreturn]] void die_of_signal(int signo);

/// Exits or dies as `result` says; a process that could not be spawned exits 127 (not found) or
/// 126 (cannot execute), like a shell.
[[noreturn]] void exit_like(RunResult const& result);

/// Whether `signo`'s default action ends a process (so a container that has not started yet
/// ends on it, as runc's waiting init would).
bool signal_terminates(int signo);

} // namespace husk::oci
