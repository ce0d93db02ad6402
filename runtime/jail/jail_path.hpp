// Names inside a jail root: a VM id (one directory name) and relative paths of mount points.
// Pure validation, fuzzed: nothing that could climb out (`..`), start at the host root, or hide
// a NUL reaches a filesystem call.
#pragma once

#include "runtime/base/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace husk {

inline constexpr size_t max_vm_id_length = 64;
inline constexpr size_t max_jail_path_length = 256;

// [A-Za-z0-9_-], 1..64 characters, so it is one safe directory name (and a cgroup name).
Result<void> validate_vm_id(std::string_view id);

// "dev/kvm" → { "dev", "kvm" }. Refuses empty paths and components, absolute paths, "." and
// "..", NUL bytes and paths over max_jail_path_length.
Result<std::vector<std::string>> split_jail_path(std::string_view path);

} // namespace husk
