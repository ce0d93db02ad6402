// Errors of the husk SDK. Every call returns husk::Result<T> (husk/result.hpp, the member names of
// std::expected); its Error carries a message for humans and an ErrorKind for code:
//
//   BadConfig          invalid options or missing assets: fix the call, retrying will not help
//   VmmStartFailed     husk-vmm did not start or exited during boot; the message ends with its
//                      last log lines
//   GuestNotReady      the guest agent did not answer before SandboxOptions::boot_timeout
//   AgentDisconnected  the agent connection closed or the agent broke the protocol
//   VmDied             the VMM exited while the sandbox was in use (guest panic, kill, OOM)
//   Timeout            a host-side deadline passed (Process::wait, a file operation)
//   Guest              the agent refused a request (no such file, bad argument, ...)
//
// A job that exits non-zero, is killed by a signal or is not found is not an error: see RunResult.
#pragma once

#include "husk/result.hpp"

#include <string_view>

namespace husk {

// "bad-config", "vmm-start-failed", ...: stable names for logs and JSON.
std::string_view error_kind_name(ErrorKind kind);

} // namespace husk
