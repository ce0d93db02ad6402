// Removing everything one sandbox's network consists of, in the launcher's own process (no
// fork: it runs after the jailed VMM ended, and for the reaper): processes left in its
// namespace (the DNS forwarder), the host-side nftables table, the veth pair (its host end
// takes the sandbox end with it) and the named namespace (which takes the tap with it once the
// last process in it is gone). Every step runs even when an earlier one failed.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/net/sandbox_addresses.hpp"

namespace husk {

Result<void> remove_sandbox_network(SandboxAddresses const& addresses);

// Whether anything of that sandbox's network is still there (tests and the reaper's log).
bool sandbox_network_leftovers_exist(SandboxAddresses const& addresses);

} // namespace husk
