// File descriptors over Unix sockets (SCM_RIGHTS): the pty master to the console socket, the
// caller's stdio from `exec` to the container's monitor.
#pragma once

#include "runtime/base/result.hpp"

#include <span>
#include <string>
#include <vector>

namespace husk::oci {

/// Sends `payload` (non-empty: a zero-length message would carry no ancillary data on a stream
/// socket) with `fds` attached.
Result<void> send_with_fds(int socket, std::string const& payload, std::span<int const> fds);

struct ReceivedMessage {
    std::string payload; ///< empty: the peer closed the connection
    std::vector<int> fds; ///< owned by the caller (O_CLOEXEC)
};

/// One message of at most `max_size` bytes and up to `max_fds` descriptors.
Result<ReceivedMessage> receive_with_fds(int socket, size_t max_size, size_t max_fds);

/// Connects to the console socket at `path` and sends `master` as runc does (the payload is the
/// pty's name). Paths beyond sun_path's 108 bytes are reached through /proc/self/fd.
Result<void> send_console(std::string const& path, int master, std::string const& name);

/// A connected Unix socket of `type` to `path`, through /proc/self/fd when the path is long.
Result<int> connect_unix(std::string const& path, int type);

} // namespace husk::oci
