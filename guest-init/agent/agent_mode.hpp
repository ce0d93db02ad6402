// husk-init's agent mode: with no job on the kernel command line, PID 1 serves the job protocol on
// vsock port protocol::agent_port until a host sends Shutdown.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <cstdint>
#include <functional>

namespace husk::agent {

// A non-blocking AF_VSOCK stream socket listening on VMADDR_CID_ANY:`port`.
Result<Fd> listen_vsock(uint32_t port);

// Serves until a Shutdown request, reaping every child as PID 1 must. `on_listening` runs once the
// vsock port listens, before the first accept (husk-init tells the host there). Returns an error
// when the agent cannot run at all (no vsock in the kernel, no device) or its loop fails; the
// caller then shuts the guest down rather than leave the host waiting on a silent VM.
Result<void> serve_agent(std::function<void()> const& on_listening);

} // namespace husk::agent
