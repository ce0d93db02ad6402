// adopt_net_stream_socket, connect_net_stream_socket: the checks a wrong descriptor number or
// path would otherwise only show as a link that never comes up.
#include "runtime/net/net_stream_socket.hpp"

#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

namespace husk {

Result<Fd> adopt_net_stream_socket(int fd)
{
    if (fd < 0)
        return fail("--net-stream: descriptor " + std::to_string(fd) + " is not valid");
    int domain = 0;
    int type = 0;
    socklen_t length = sizeof domain;
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) < 0)
        return fail_errno("--net-stream: descriptor " + std::to_string(fd) + " is not an open socket");
    length = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) < 0)
        return fail_errno("--net-stream: descriptor " + std::to_string(fd));
    if (domain != AF_UNIX || type != SOCK_STREAM)
        return fail("--net-stream: descriptor " + std::to_string(fd) + " is not a unix stream socket");
    Fd owned(fd);
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || ::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return fail_errno("--net-stream: descriptor " + std::to_string(fd) + " flags");
    return owned;
}

Result<Fd> connect_net_stream_socket(std::string const& path)
{
    sockaddr_un address {};
    address.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof address.sun_path)
        return fail("--net-stream: socket path must be 1.." + std::to_string(sizeof address.sun_path - 1) + " bytes");
    std::memcpy(address.sun_path, path.data(), path.size());
    Fd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!socket.is_valid())
        return fail_errno("socket");
    if (::connect(socket.get(), reinterpret_cast<sockaddr const*>(&address), sizeof address) < 0)
        return fail_errno("--net-stream: connect to " + path);
    if (::fcntl(socket.get(), F_SETFL, O_NONBLOCK) < 0)
        return fail_errno("--net-stream: O_NONBLOCK");
    return socket;
}

} // namespace husk
