// Control socket client: connect, sendmsg with SCM_RIGHTS, read one reply line.
#include "sdk/src/vmm_control.hpp"

#include "runtime/base/fd.hpp"

#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

namespace husk::detail {

namespace {
    constexpr size_t max_reply_size = 1024;
    constexpr size_t max_fds = 4;
} // namespace

Result<std::string> parse_control_reply(std::string_view line, ErrorKind error_kind)
{
    if (line == "OK")
        return std::string();
    if (line.starts_with("OK "))
        return std::string(line.substr(3));
    if (line.starts_with("ERR "))
        return fail(error_kind, std::string(line.substr(4)));
    std::string shown;
    for (char c : line.substr(0, 64))
        shown += c >= 0x20 && c < 0x7f ? c : '?';
    return fail(ErrorKind::Other, "unexpected reply from husk-vmm's control socket: '" + shown + "'");
}

Result<std::string> send_vmm_command(std::string const& socket_path, std::string_view command, std::span<int const> fds,
    std::chrono::steady_clock::time_point deadline)
{
    if (fds.size() > max_fds)
        return fail("too many descriptors for one control command");
    sockaddr_un address {};
    address.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof address.sun_path)
        return fail(ErrorKind::BadConfig, "socket path too long: " + socket_path);
    std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size());
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.is_valid())
        return fail_errno("socket");
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0)
        return fail_errno("connect to husk-vmm's control socket " + socket_path);

    std::string line = std::string(command) + "\n";
    iovec vector { line.data(), line.size() };
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_fds)] {};
    msghdr message {};
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    if (!fds.empty()) {
        message.msg_control = control;
        message.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        auto* header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
    }
    if (::sendmsg(fd.get(), &message, MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
        return fail_errno("send to husk-vmm's control socket");

    std::string reply;
    while (reply.empty() || reply.back() != '\n') {
        if (reply.size() > max_reply_size)
            return fail("husk-vmm's control reply is too long");
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd poll_fd { fd.get(), POLLIN, 0 };
        int ready
            = ::poll(&poll_fd, 1, static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(left.count(), 60'000))));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready == 0 && std::chrono::steady_clock::now() >= deadline)
            return fail(ErrorKind::Timeout, "husk-vmm did not answer '" + std::string(command) + "' in time");
        if (ready <= 0)
            continue;
        char buffer[256];
        auto got = ::read(fd.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return fail(ErrorKind::VmDied, "husk-vmm closed its control socket without answering");
        reply.append(buffer, static_cast<size_t>(got));
    }
    reply.pop_back();
    return parse_control_reply(reply, ErrorKind::Other);
}

} // namespace husk::detail
