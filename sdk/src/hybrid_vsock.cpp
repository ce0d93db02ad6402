// Hybrid-vsock CONNECT handshake. The reply is read byte by byte so nothing after the line (the
// agent's first frames) is consumed here.
#include "sdk/src/hybrid_vsock.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace husk::detail {

Result<uint32_t> parse_connect_reply(std::string_view line)
{
    auto shown = [&] {
        std::string text;
        for (char c : line.substr(0, max_connect_reply_size))
            text += (c >= 0x20 && c < 0x7f) ? c : '?';
        return "'" + text + "'";
    };
    if (line.size() > max_connect_reply_size)
        return fail(ErrorKind::AgentDisconnected, "hybrid-vsock reply too long: " + shown());
    if (line.size() < 5 || line.substr(0, 3) != "OK " || line.back() != '\n')
        return fail(
            ErrorKind::AgentDisconnected, "unexpected hybrid-vsock reply " + shown() + " (expected 'OK <port>')");
    auto digits = line.substr(3, line.size() - 4);
    uint64_t port = 0;
    for (char c : digits) {
        if (c < '0' || c > '9')
            return fail(ErrorKind::AgentDisconnected, "bad port in hybrid-vsock reply " + shown());
        port = port * 10 + static_cast<uint64_t>(c - '0');
        if (port > UINT32_MAX)
            return fail(ErrorKind::AgentDisconnected, "port out of range in hybrid-vsock reply " + shown());
    }
    return static_cast<uint32_t>(port);
}

namespace {

    int millis_until(std::chrono::steady_clock::time_point deadline)
    {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        return left.count() < 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 60'000));
    }

} // namespace

Result<Fd> connect_hybrid_vsock(
    std::string const& socket_path, uint32_t port, std::chrono::steady_clock::time_point deadline, ConnectStage& stage)
{
    stage = ConnectStage::Failed;
    sockaddr_un address {};
    address.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof address.sun_path)
        return fail(ErrorKind::BadConfig, "socket path too long: " + socket_path);
    std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size());
    Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.is_valid())
        return fail_errno("socket");
    if (connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) {
        if (errno == ENOENT || errno == ECONNREFUSED)
            stage = ConnectStage::NoSocket;
        return fail_errno("connect " + socket_path);
    }
    auto line = "CONNECT " + std::to_string(port) + "\n";
    if (send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
        stage = ConnectStage::NoListener;
        return fail_errno("send CONNECT");
    }
    std::string reply;
    while (reply.size() <= max_connect_reply_size && (reply.empty() || reply.back() != '\n')) {
        pollfd poll_fd { fd.get(), POLLIN, 0 };
        int ready = poll(&poll_fd, 1, millis_until(deadline));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            return fail(ErrorKind::GuestNotReady, "no hybrid-vsock reply before the deadline");
        char byte;
        ssize_t got = read(fd.get(), &byte, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            stage = ConnectStage::NoListener;
            return fail(ErrorKind::GuestNotReady,
                "the VMM closed the connection: nothing listens on guest port " + std::to_string(port) + " yet");
        }
        reply.push_back(byte);
    }
    TRY(parse_connect_reply(reply));
    return fd;
}

} // namespace husk::detail
