// ControlSocket: accept, line reads with SCM_RIGHTS descriptors, replies.
#include "runtime/vmm/control_socket.hpp"

#include "runtime/base/log.hpp"

#include <cstring>
#include <sys/socket.h>

namespace husk {

namespace {
    // More descriptors than any command takes: the extra ones are closed.
    constexpr size_t max_fds_per_message = 4;
} // namespace

Result<ControlSocket> ControlSocket::listen(std::string path)
{
    auto listener = TRY_CONTEXT(listen_unix_socket(path, 4), "control socket " + path);
    return ControlSocket(std::move(path), std::move(listener));
}

ControlSocket::~ControlSocket()
{
    if (m_listener.fd.is_valid())
        remove_unix_socket(m_path, m_listener.identity);
}

void ControlSocket::accept_client()
{
    int fd = ::accept4(m_listener.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    if (m_client.is_valid()) {
        Fd refused(fd);
        static constexpr char busy[] = "ERR another client is connected\n";
        (void)::send(refused.get(), busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        return;
    }
    m_client = Fd(fd);
    m_buffer.clear();
    m_received_fds.clear();
}

void ControlSocket::drop_client()
{
    m_client.reset();
    m_buffer.clear();
    m_received_fds.clear();
}

std::optional<ControlRequest> ControlSocket::read_request()
{
    if (!m_client.is_valid())
        return std::nullopt;
    for (;;) {
        if (auto newline = m_buffer.find('\n'); newline != std::string::npos) {
            ControlRequest request { parse_control_line(std::string_view(m_buffer).substr(0, newline)), {} };
            m_buffer.erase(0, newline + 1);
            request.fds = std::move(m_received_fds);
            m_received_fds.clear();
            return request;
        }
        if (m_buffer.size() > control_line_max_length) {
            reply("ERR command line too long");
            drop_client();
            return std::nullopt;
        }
        char data[128];
        iovec vector { data, sizeof data };
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_fds_per_message)];
        msghdr message {};
        message.msg_iov = &vector;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        auto got = ::recvmsg(m_client.get(), &message, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return std::nullopt;
        for (auto* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
            if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS)
                continue;
            size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
                m_received_fds.emplace_back(fd);
            }
        }
        if (got <= 0) {
            drop_client(); // closed, or an error on the socket
            return std::nullopt;
        }
        m_buffer.append(data, static_cast<size_t>(got));
    }
}

void ControlSocket::reply(std::string const& line)
{
    if (!m_client.is_valid())
        return;
    std::string text = line + "\n";
    auto sent = ::send(m_client.get(), text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent != static_cast<ssize_t>(text.size())) {
        log_warn("control socket: the client did not take the reply; dropping it");
        drop_client();
    }
}

} // namespace husk
