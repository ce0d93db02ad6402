// SCM_RIGHTS send and receive, and connecting to sockets with long paths.
#include "sdk/oci/fd_passing.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace husk::oci {

namespace {

    constexpr size_t max_passed_fds = 8;

} // namespace

Result<void> send_with_fds(int socket, std::string const& payload, std::span<int const> fds)
{
    if (payload.empty() || fds.size() > max_passed_fds)
        return fail("send_with_fds: empty payload or too many descriptors");
    iovec iov { const_cast<char*>(payload.data()), payload.size() };
    msghdr message {};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_passed_fds)] {};
    if (!fds.empty()) {
        message.msg_control = control;
        message.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        auto* header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
    }
    while (true) {
        ssize_t sent = sendmsg(socket, &message, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0)
            return fail_errno("sendmsg");
        if (static_cast<size_t>(sent) != payload.size())
            return fail("sendmsg: short write");
        return {};
    }
}

Result<ReceivedMessage> receive_with_fds(int socket, size_t max_size, size_t max_fds)
{
    ReceivedMessage received;
    std::string buffer(max_size, '\0');
    iovec iov { buffer.data(), buffer.size() };
    msghdr message {};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_passed_fds)] {};
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    ssize_t n = 0;
    do {
        n = recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return fail_errno("recvmsg");
    for (auto* header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int fd = -1;
            memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
            received.fds.push_back(fd);
        }
    }
    auto close_all = [&] {
        for (int fd : received.fds)
            close(fd);
    };
    if ((message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || received.fds.size() > max_fds) {
        close_all();
        return fail("message too large or with too many descriptors");
    }
    buffer.resize(static_cast<size_t>(n));
    received.payload = std::move(buffer);
    return received;
}

Result<int> connect_unix(std::string const& path, int type)
{
    int socket_fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (socket_fd < 0)
        return fail_errno("socket");
    std::string target = path;
    int directory = -1;
    sockaddr_un address {};
    if (target.size() >= sizeof address.sun_path) {
        auto slash = path.rfind('/');
        directory = open(path.substr(0, slash == 0 ? 1 : slash).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (directory < 0) {
            int err = errno;
            close(socket_fd);
            return fail_errno("cannot open the directory of " + path, err);
        }
        target = "/proc/self/fd/" + std::to_string(directory) + path.substr(slash);
    }
    if (target.size() >= sizeof address.sun_path) {
        close(socket_fd);
        if (directory >= 0)
            close(directory);
        return fail("socket name too long: " + path);
    }
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, target.c_str(), target.size() + 1);
    int connected = connect(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    int err = errno;
    if (directory >= 0)
        close(directory);
    if (connected < 0) {
        close(socket_fd);
        return fail_errno("cannot connect to " + path, err);
    }
    return socket_fd;
}

Result<void> send_console(std::string const& path, int master, std::string const& name)
{
    int socket_fd = TRY(connect_unix(path, SOCK_STREAM));
    int fds[] = { master };
    auto sent = send_with_fds(socket_fd, name, fds);
    close(socket_fd);
    TRY_CONTEXT(sent, "console socket " + path);
    return {};
}

} // namespace husk::oci
