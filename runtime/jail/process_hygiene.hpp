// What a jailed VMM must not inherit from whoever started it: open descriptors (a stray fd to a
// host file or socket is a way out) and environment variables (host paths, credentials).
#pragma once

#include "runtime/base/result.hpp"

#include <span>

namespace husk {

// Closes every descriptor except those in `keep` (any order, duplicates allowed).
// Needs close_range(2) (Linux 5.9).
Result<void> close_inherited_fds(std::span<int const> keep);

// Empties the environment and wipes its strings (so /proc/<pid>/environ shows nothing). Read
// whatever is needed from it first.
Result<void> clear_environment();

} // namespace husk
