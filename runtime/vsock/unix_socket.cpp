// AF_UNIX listening and connecting with the path checks the hybrid-vsock backend needs.
#include "runtime/vsock/unix_socket.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace husk {

namespace {

    constexpr mode_t socket_file_mode = 0600;

    Result<sockaddr_un> unix_address(std::string const& path)
    {
        sockaddr_un address {};
        address.sun_family = AF_UNIX;
        if (path.empty())
            return fail("unix socket path is empty");
        if (path.size() > max_unix_socket_path())
            return fail("unix socket path \"" + path + "\" is longer than " + std::to_string(max_unix_socket_path())
                + " bytes");
        if (path.find('\0') != std::string::npos)
            return fail("unix socket path contains a NUL byte");
        std::memcpy(address.sun_path, path.data(), path.size());
        return address;
    }

    Result<Fd> stream_socket(int extra_flags)
    {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | extra_flags, 0);
        if (fd < 0)
            return fail_errno("socket(AF_UNIX)");
        return Fd(fd);
    }

    // Something exists at `path`: a stale socket is removed, anything else is refused.
    Result<void> clear_stale_socket(std::string const& path, struct stat const& existing)
    {
        // lstat: a symlink is reported as itself, so it lands here and is refused, never followed.
        if (!S_ISSOCK(existing.st_mode))
            return fail("\"" + path + "\" exists and is not a socket; refusing to replace it");
        auto probe = connect_unix_socket(path);
        if (probe)
            return fail("\"" + path + "\" is in use: a process is listening on it");
        if (probe.error().errno_value != ECONNREFUSED)
            return fail("cannot tell whether socket \"" + path + "\" is stale: " + probe.error().message);
        // Nobody listens: a leftover of a VMM that died. unlink() removes the name, not a target.
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            return fail_errno("removing stale socket \"" + path + "\"");
        return {};
    }

} // namespace

size_t max_unix_socket_path() { return sizeof(sockaddr_un::sun_path) - 1; }

Result<UnixListener> listen_unix_socket(std::string const& path, int backlog)
{
    auto address = TRY(unix_address(path));
    struct stat existing { };
    if (::lstat(path.c_str(), &existing) == 0)
        TRY(clear_stale_socket(path, existing));
    else if (errno != ENOENT)
        return fail_errno("checking \"" + path + "\"");

    auto fd = TRY(stream_socket(0));
    // Linux creates the socket file with the socket inode's mode (less the umask): setting it
    // before bind() means the file never exists with wider permissions, not even briefly.
    if (::fchmod(fd.get(), socket_file_mode) != 0)
        return fail_errno("fchmod on the vsock listening socket");
    if (::bind(fd.get(), reinterpret_cast<sockaddr const*>(&address), sizeof address) != 0)
        return fail_errno("binding \"" + path + "\"");

    UnixListener listener { std::move(fd), {} };
    struct stat created { };
    if (::lstat(path.c_str(), &created) != 0)
        return fail_errno("checking the new socket \"" + path + "\"");
    listener.identity = { created.st_dev, created.st_ino };
    if (!S_ISSOCK(created.st_mode) || (created.st_mode & 0777) != socket_file_mode) {
        remove_unix_socket(path, listener.identity);
        return fail("socket \"" + path + "\" was not created with mode 0600");
    }
    if (::listen(listener.fd.get(), backlog) != 0) {
        int error = errno;
        remove_unix_socket(path, listener.identity);
        return fail_errno("listening on \"" + path + "\"", error);
    }
    return listener;
}

Result<Fd> connect_unix_socket(std::string const& path)
{
    auto address = TRY(unix_address(path));
    // Non-blocking so a listener with a full backlog fails with EAGAIN instead of stalling the
    // event thread; AF_UNIX connects otherwise complete (or fail) at once.
    auto fd = TRY(stream_socket(SOCK_NONBLOCK));
    if (::connect(fd.get(), reinterpret_cast<sockaddr const*>(&address), sizeof address) != 0)
        return fail_errno("connecting to \"" + path + "\"");
    int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0)
        return fail_errno("making the socket to \"" + path + "\" blocking");
    return fd;
}

void remove_unix_socket(std::string const& path, UnixSocketIdentity identity)
{
    struct stat current { };
    if (::lstat(path.c_str(), &current) != 0)
        return;
    if (!S_ISSOCK(current.st_mode) || current.st_dev != identity.device || current.st_ino != identity.inode)
        return; // replaced by someone else since: not ours to remove
    (void)::unlink(path.c_str());
}

} // namespace husk
