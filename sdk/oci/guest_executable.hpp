// `create` reports a missing or non-executable process.args[0] before it succeeds, with runc's
// words, because podman maps them to exit codes: "executable file not found in $PATH" → 127,
// "permission denied" → 126. The lookup is done in the booted guest through the agent's stat.
#pragma once

#include "runtime/base/result.hpp"

#include "husk/sandbox.hpp"

#include <functional>
#include <string>
#include <vector>

namespace husk::oci {

/// Where each candidate path stands, as the guest's lstat reports it; nullopt: no such file.
using GuestLookup = std::function<std::optional<FileInfo>(std::string const& path)>;

/// Resolves `program` like execvp in the guest: with a '/' relative to `cwd`, else in PATH taken
/// from `env` (runc's default PATH when absent). Returns the path found, or an error whose
/// message is runc's ("exec: \"x\": executable file not found in $PATH", "... permission denied").
/// A symlink counts as found: the agent cannot follow it, and spawning reports any problem.
Result<std::string> resolve_guest_executable(
    std::string const& program, std::string const& cwd, std::vector<std::string> const& env, GuestLookup const& lookup);

} // namespace husk::oci
