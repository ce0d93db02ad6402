// The control socket's commands (docs/snapshots.md): one line each, answered with one line,
// `OK [details]` or `ERR <message>`. A pure parser, unit-tested and fuzzed, since any local
// process that can reach the socket can send anything.
//
//   PAUSE      stop every vCPU (and the device thread) where it is
//   RESUME     let a paused VM go on
//   SNAPSHOT   with two descriptors passed alongside (SCM_RIGHTS): the state file and the memory
//              file, open for writing. Pauses the VM if it runs, writes the snapshot, and leaves
//              the VM paused; `OK <state bytes> <memory bytes>`.
#pragma once

#include "runtime/base/result.hpp"

#include <cstddef>
#include <string_view>

namespace husk {

enum class ControlCommand { Pause, Resume, Snapshot };

inline constexpr size_t control_line_max_length = 64;
// Descriptors a SNAPSHOT passes: state file, memory file.
inline constexpr size_t snapshot_command_fds = 2;

// One line without its newline. Trailing '\r' is tolerated (a terminal user with socat).
Result<ControlCommand> parse_control_line(std::string_view line);
// How many descriptors the command needs.
size_t control_command_fds(ControlCommand command);

} // namespace husk
