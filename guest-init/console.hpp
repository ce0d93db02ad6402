// The console: giving PID 1 (and so the job) stdin/stdout/stderr, and one-line messages on it.
#pragma once

#include "runtime/base/result.hpp"

#include <initializer_list>
#include <string_view>

namespace husk::init {

// The kernel opens /dev/console as fds 0-2 for init only if the initramfs has that node; ours
// has no device nodes, so after devtmpfs is up husk-init does it itself. Opens the first path that
// works and dup2()s it onto each of 0, 1, 2 that is not open (open ones are left alone). Must run
// before husk-init opens anything else, or that file would take a standard fd number.
Result<void> attach_standard_fds(std::initializer_list<char const*> candidates);

inline constexpr char const* console_path = "/dev/console";
inline constexpr char const* null_device_path = "/dev/null";

// Writes "husk-init: <message>\n" to stderr in one write(), so it never interleaves with the job.
void console_message(std::string_view message);

} // namespace husk::init
