// AF_UNIX stream sockets for the hybrid-vsock backend: the VMM's listening socket at uds_path
// and the non-blocking connects to `<uds_path>_<port>`. Paths come from the VMM's command line
// and name places other host processes can touch, so creation never follows a symlink, never
// replaces anything but a stale socket, and the socket file is private to the VMM's user (0600).
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <string>
#include <sys/types.h>

namespace husk {

// Which filesystem object a listening socket is, so that cleanup removes only our own.
struct UnixSocketIdentity {
    dev_t device { 0 };
    ino_t inode { 0 };
};

struct UnixListener {
    Fd fd;
    UnixSocketIdentity identity;
};

// Longest path a sockaddr_un holds (sun_path without its terminating NUL).
size_t max_unix_socket_path();

// Creates, binds (mode 0600) and listens on `path`. Refuses a path that exists as anything but a
// socket (symlinks included) or a socket something still listens on; removes a stale one.
Result<UnixListener> listen_unix_socket(std::string const& path, int backlog);

// Connects to `path` without blocking. Returns the connected socket in blocking mode (io_uring
// then waits for readiness itself) or the connect error (ENOENT, ECONNREFUSED, EAGAIN, ...).
Result<Fd> connect_unix_socket(std::string const& path);

// Unlinks `path` if it is still the socket `identity` names; leaves anything else alone.
void remove_unix_socket(std::string const& path, UnixSocketIdentity identity);

} // namespace husk
