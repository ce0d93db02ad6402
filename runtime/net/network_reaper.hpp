// The reaper: a sandbox's launcher removes its network when the VMM ends; if the launcher itself
// was killed (kill -9), the lock file of its address slot stays behind unlocked. Every start of
// a networked sandbox first reaps such slots: it locks each abandoned slot, removes what is left
// of its network (network_teardown.hpp) and releases it — the jail's cleanup works the same way.
#pragma once

#include "runtime/base/result.hpp"

#include <cstddef>
#include <string>

namespace husk {

// Returns how many abandoned slots were reaped; a missing directory means none.
Result<size_t> reap_abandoned_networks(std::string const& state_directory);

} // namespace husk
