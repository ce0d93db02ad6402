// AgentSession: connection I/O, backpressure and the connection's life cycle. The request
// handlers are in session_requests.cpp.
#include "guest-init/agent/agent_session.hpp"

#include "guest-init/protocol/message_codec.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

namespace husk::agent {

using namespace protocol;

namespace {

    // Per read: on the stack, and small enough that one busy connection stays fair to others.
    constexpr size_t request_read_size = 64 * 1024;
    // Always reported by epoll; asking for them keeps a socket registered (to notice a hangup)
    // while neither reading nor writing, without the level-triggered spin of EPOLLIN/EPOLLRDHUP.
    constexpr uint32_t hangup_events = EPOLLERR | EPOLLHUP;

} // namespace

Result<std::unique_ptr<AgentSession>> AgentSession::create(Fd stream, SessionHost& host)
{
    int flags = fcntl(stream.get(), F_GETFL);
    if (flags < 0 || fcntl(stream.get(), F_SETFL, flags | O_NONBLOCK) < 0)
        return fail_errno("fcntl O_NONBLOCK on a connection");
    std::unique_ptr<AgentSession> session(new AgentSession(std::move(stream), host));
    session->m_watch = TRY(host.poller().watch(
        session->m_fd.get(), EPOLLIN, [session = session.get()](uint32_t events) { session->on_socket(events); }));
    return session;
}

AgentSession::AgentSession(Fd stream, SessionHost& host)
    : m_host(host)
    , m_fd(std::move(stream))
    , m_queue(host.options().output_queue_limit)
{
}

AgentSession::~AgentSession() { drop_operations(); }

void AgentSession::send(uint32_t correlation_id, Message const& message)
{
    m_queue.push(encode_message(correlation_id, message));
}

void AgentSession::send_error(uint32_t id, ErrorCode code, std::string message)
{
    if (message.size() > max_string_size)
        message.resize(max_string_size);
    send(id, ErrorReply { code, std::move(message) });
}

bool AgentSession::accepting_requests() const
{
    if (m_state != State::Open || output_paused())
        return false;
    // A job that is not taking its stdin holds further requests back (with them, its stdin).
    return std::none_of(m_jobs.begin(), m_jobs.end(),
        [this](auto const& entry) { return entry.second->stdin_backlog() >= m_host.options().stdin_backlog_limit; });
}

void AgentSession::on_socket(uint32_t events)
{
    if (m_state == State::Closed)
        return;
    if ((events & EPOLLOUT) && !m_queue.is_empty())
        flush();
    if (m_state == State::Closed)
        return;
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && accepting_requests() && m_decoder_drained) {
        read_requests(events);
        return;
    }
    // Not reading: only a hangup matters, and it ends the connection.
    if (events & (EPOLLHUP | EPOLLERR))
        close_now();
}

void AgentSession::read_requests(uint32_t events)
{
    uint8_t buffer[request_read_size];
    ssize_t got = read(m_fd.get(), buffer, sizeof buffer);
    if (got < 0) {
        if (errno != EAGAIN && errno != EINTR)
            close_now(); // ECONNRESET and the like: the host is gone
        return;
    }
    if (got == 0) {
        if (m_decoder.has_partial_frame())
            fail_protocol(0, "connection closed in the middle of a frame");
        else if (events & (EPOLLHUP | EPOLLERR))
            close_now(); // closed in both directions: nobody will read a reply
        else
            on_peer_half_close();
        return;
    }
    m_decoder.feed(std::span<uint8_t const>(buffer, static_cast<size_t>(got)));
    m_decoder_drained = false;
    process_frames();
}

void AgentSession::process_frames()
{
    while (accepting_requests()) {
        auto next = m_decoder.next();
        if (!next) {
            fail_protocol(0, next.error().message);
            return;
        }
        if (!next->has_value()) {
            m_decoder_drained = true;
            return;
        }
        handle_frame(**next);
    }
}

void AgentSession::handle_frame(Frame const& frame)
{
    auto message = decode_message(frame, Peer::Host);
    if (!message) {
        fail_protocol(frame.correlation_id, message.error().message);
        return;
    }
    handle_message(frame.correlation_id, *message);
}

void AgentSession::fail_protocol(uint32_t correlation_id, std::string message)
{
    if (m_state == State::Failing || m_state == State::Closed)
        return;
    send_error(correlation_id, ErrorCode::Protocol, std::move(message));
    drop_operations();
    m_state = State::Failing;
    auto timer = Timer::create();
    if (!timer || !timer->arm(m_host.options().failure_flush_limit)) {
        close_now();
        return;
    }
    m_failure_timer = std::move(*timer);
    auto watch = m_host.poller().watch(m_failure_timer->fd(), EPOLLIN, [this](uint32_t) { close_now(); });
    if (!watch)
        close_now();
    else
        m_failure_watch = std::move(*watch);
}

void AgentSession::on_peer_half_close()
{
    m_state = State::PeerClosed;
    // No more stdin can come; an upload cut short is abandoned, its partial file left as is.
    for (auto& [id, job] : m_jobs) {
        // Fails only for a job without stdin, which has nothing to close.
        [[maybe_unused]] auto closed = job->close_stdin();
    }
    m_writers.clear();
}

void AgentSession::drop_operations()
{
    for (auto& [id, job] : m_jobs) {
        if (!job->is_reaped()) {
            job->kill_group();
            m_host.adopt_child(job->pid());
        }
    }
    m_jobs.clear();
    m_writers.clear();
    m_readers.clear();
}

void AgentSession::close_now()
{
    m_state = State::Closed;
    drop_operations();
    m_watch.reset();
    m_failure_watch.reset();
}

bool AgentSession::on_child_exit(pid_t pid, int wait_status)
{
    for (auto& [id, job] : m_jobs) {
        if (job->pid() == pid && !job->is_reaped()) {
            job->on_reaped(wait_status);
            return true;
        }
    }
    return false;
}

void AgentSession::append_unreaped_pids(std::vector<pid_t>& pids) const
{
    for (auto const& [id, job] : m_jobs) {
        if (!job->is_reaped())
            pids.push_back(job->pid());
    }
}

void AgentSession::finish_jobs()
{
    for (auto it = m_jobs.begin(); it != m_jobs.end();) {
        auto& job = it->second;
        if (job->progress() == ExecJob::Progress::Running) {
            ++it;
            continue;
        }
        if (!job->is_reaped())
            m_host.adopt_child(job->pid()); // a spawn failure reported before its reaping
        it = m_jobs.erase(it);
    }
}

void AgentSession::pump_reads()
{
    // One chunk per download per round, so concurrent downloads share the connection.
    while (!m_readers.empty() && !output_paused()) {
        for (auto it = m_readers.begin(); it != m_readers.end() && !output_paused();) {
            auto chunk = it->second.next_chunk();
            bool done = true;
            if (auto* data = std::get_if<FileData>(&chunk)) {
                done = data->eof;
                send(it->first, *data);
            } else {
                send(it->first, std::get<ErrorReply>(chunk));
            }
            it = done ? m_readers.erase(it) : std::next(it);
        }
    }
}

void AgentSession::flush()
{
    if (m_queue.is_empty())
        return;
    if (!m_queue.flush(m_fd.get()))
        close_now(); // EPIPE, ECONNRESET: the host is gone
}

void AgentSession::update_socket_interest()
{
    uint32_t events = hangup_events;
    if (accepting_requests() && m_decoder_drained)
        events |= EPOLLIN;
    if (!m_queue.is_empty())
        events |= EPOLLOUT;
    if (!m_watch.set_events(events))
        close_now();
}

void AgentSession::after_events()
{
    if (m_state == State::Closed)
        return;
    // Requests held back by backpressure go first, now that there may be room.
    if (!m_decoder_drained)
        process_frames();
    flush();
    if (m_state == State::Closed)
        return;
    finish_jobs();
    pump_reads();
    flush();
    if (m_state == State::Closed)
        return;

    bool idle = m_jobs.empty() && m_readers.empty() && m_queue.is_empty();
    if ((m_state == State::Failing && m_queue.is_empty()) || (m_state == State::PeerClosed && idle)) {
        close_now();
        return;
    }
    update_socket_interest();
}

} // namespace husk::agent
