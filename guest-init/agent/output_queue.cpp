// OutputQueue: gathers the queued frames into one sendmsg() per flush.
#include "guest-init/agent/output_queue.hpp"

#include <array>
#include <cerrno>
#include <sys/socket.h>
#include <sys/uio.h>

namespace husk::agent {

namespace {

    constexpr size_t iovecs_per_send = 32;

} // namespace

void OutputQueue::push(std::vector<uint8_t> frame)
{
    if (frame.empty())
        return;
    m_size += frame.size();
    m_frames.push_back(std::move(frame));
    update_room();
}

Result<OutputQueue::Flushed> OutputQueue::flush(int socket_fd)
{
    while (!m_frames.empty()) {
        std::array<iovec, iovecs_per_send> iov;
        size_t count = 0;
        for (auto it = m_frames.begin(); it != m_frames.end() && count < iov.size(); ++it, ++count) {
            size_t skip = count == 0 ? m_front_offset : 0;
            iov[count].iov_base = it->data() + skip;
            iov[count].iov_len = it->size() - skip;
        }
        msghdr message {};
        message.msg_iov = iov.data();
        message.msg_iovlen = count;
        ssize_t sent = sendmsg(socket_fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return fail_errno("send to the host");
        }
        auto remaining = static_cast<size_t>(sent);
        m_size -= remaining;
        while (remaining > 0) {
            size_t front_left = m_frames.front().size() - m_front_offset;
            if (remaining < front_left) {
                m_front_offset += remaining;
                break;
            }
            remaining -= front_left;
            m_frames.pop_front();
            m_front_offset = 0;
        }
    }
    update_room();
    return m_frames.empty() ? Flushed::All : Flushed::Partly;
}

void OutputQueue::update_room()
{
    if (m_size >= m_limit)
        m_room = Room::Full;
    else if (m_size <= m_limit / 2)
        m_room = Room::Available;
}

} // namespace husk::agent
