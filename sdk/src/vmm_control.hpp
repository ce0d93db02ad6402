// The client end of husk-vmm's control socket (`--control`, docs/snapshots.md): one command line,
// optionally with descriptors passed alongside (SCM_RIGHTS), answered by one line, `OK ...` or
// `ERR <message>`.
#pragma once

#include "runtime/base/result.hpp"

#include <chrono>
#include <span>
#include <string>
#include <string_view>

namespace husk::detail {

// Parses a reply line without its newline: the text after "OK" (possibly empty), or the VMM's
// error as an Error of `error_kind`.
Result<std::string> parse_control_reply(std::string_view line, ErrorKind error_kind);

// Connects, sends `command` with `fds`, waits for the reply until `deadline`.
Result<std::string> send_vmm_command(std::string const& socket_path, std::string_view command, std::span<int const> fds,
    std::chrono::steady_clock::time_point deadline);

} // namespace husk::detail
