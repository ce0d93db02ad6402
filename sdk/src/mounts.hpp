// SandboxOptions::mounts: their checks, and the husk-vmm arguments and kernel command line
// words that carry them (--share HOST:TAG[,ro] and husk.mount=TAG:GUEST[:ro], tags m0, m1, ...).
#pragma once

#include "husk/options.hpp"
#include "husk/result.hpp"

#include <string>
#include <vector>

namespace husk::detail {

inline constexpr size_t max_mounts = 8;

// BadConfig naming the mount and the rule it breaks.
Result<void> check_mounts(std::vector<Mount> const& mounts);
// Appends `--share HOST:mN[,ro]` to `argv` and `husk.mount=mN:GUEST[:ro]` to `cmdline_words`.
void append_mount_arguments(
    std::vector<Mount> const& mounts, std::vector<std::string>& argv, std::vector<std::string>& cmdline_words);

} // namespace husk::detail
