// AgentServer: the loop, accepting, reaping and shutdown.
#include "guest-init/agent/agent_server.hpp"

#include "runtime/base/log.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>

namespace husk::agent {

namespace {

    constexpr size_t accepts_per_event = 16;
    // Poll interval while Shutdown waits for the host to close the connection.
    constexpr int shutdown_poll_ms = 5;

    void kill_and_reap(pid_t pid)
    {
        if (kill(-pid, SIGKILL) < 0 && errno == ESRCH)
            kill(pid, SIGKILL);
        while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) { }
    }

} // namespace

Result<std::unique_ptr<AgentServer>> AgentServer::create(AgentOptions options)
{
    auto poller = TRY(Poller::create());
    auto child_signal = TRY(ChildSignal::create());
    auto stop_event = TRY(EventFd::create(EventFd::Mode::NonBlocking));
    std::unique_ptr<AgentServer> server(
        new AgentServer(std::move(options), std::move(poller), std::move(child_signal), std::move(stop_event)));
    auto* self = server.get();
    server->m_signal_watch = TRY(
        server->m_poller->watch(server->m_child_signal->fd(), EPOLLIN, [self](uint32_t) { self->on_child_signal(); }));
    server->m_stop_watch = TRY(server->m_poller->watch(server->m_stop_event.fd(), EPOLLIN, [self](uint32_t) {
        [[maybe_unused]] auto consumed = self->m_stop_event.consume();
        self->m_stop_requested = true;
    }));
    // Children that ended before the signalfd existed sent a SIGCHLD nobody will see.
    server->on_child_signal();
    return server;
}

AgentServer::~AgentServer()
{
    m_sessions.clear(); // kills their unreaped jobs and adopts them
    for (pid_t pid : m_adopted)
        kill_and_reap(pid);
}

Result<void> AgentServer::add_connection(Fd stream)
{
    if (m_sessions.size() >= m_options.max_connections)
        return fail("too many connections (limit " + std::to_string(m_options.max_connections) + ")");
    m_sessions.push_back(TRY(AgentSession::create(std::move(stream), *this)));
    return {};
}

Result<void> AgentServer::add_listener(Fd listener)
{
    if (m_listener.is_valid())
        return fail("the agent already has a listener");
    m_listener = std::move(listener);
    m_listener_watch = TRY(m_poller->watch(m_listener.get(), EPOLLIN, [this](uint32_t) { on_accept(); }));
    return {};
}

void AgentServer::stop() const
{
    // Fails only if the counter would overflow, and then a stop is already pending.
    [[maybe_unused]] auto signalled = m_stop_event.signal();
}

void AgentServer::request_shutdown(AgentSession const& requester)
{
    if (m_shutdown_requested)
        return;
    m_shutdown_requested = true;
    m_shutdown_requester = &requester;
    m_shutdown_deadline = std::chrono::steady_clock::now() + m_options.shutdown_close_limit;
}

bool AgentServer::shutdown_handshake_done() const
{
    // Writing the Ack into the socket is not delivery: the guest kernel's vsock transport sends it
    // later, and a power-off in between loses it. The host closing its end after reading the Ack
    // is the proof; the session is destroyed (requester cleared) once that close is seen.
    return !m_shutdown_requester || std::chrono::steady_clock::now() >= m_shutdown_deadline;
}

Result<StopReason> AgentServer::run()
{
    for (;;) {
        if (m_stop_requested)
            return StopReason::Stopped;
        if (m_shutdown_requested && shutdown_handshake_done())
            return StopReason::ShutdownRequested;
        TRY(m_poller->dispatch(m_shutdown_requested ? shutdown_poll_ms : -1));
        after_events();
    }
}

void AgentServer::after_events()
{
    for (auto& session : m_sessions)
        session->after_events();
    auto closed = std::remove_if(m_sessions.begin(), m_sessions.end(), [this](auto const& session) {
        if (!session->is_closed())
            return false;
        if (session.get() == m_shutdown_requester)
            m_shutdown_requester = nullptr;
        return true;
    });
    m_sessions.erase(closed, m_sessions.end());
}

void AgentServer::on_accept()
{
    for (size_t i = 0; i < accepts_per_event; ++i) {
        int fd = accept4(m_listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            // EAGAIN: none left. ECONNABORTED and the like concern that one connection only.
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                log_warn(Error::from_errno("agent: accept").message);
            return;
        }
        if (auto added = add_connection(Fd(fd)); !added)
            log_warn("agent: dropping a connection: " + added.error().message);
    }
}

void AgentServer::on_child_signal()
{
    m_child_signal->drain();
    if (m_options.reaping == ChildReaping::AllChildren) {
        for (;;) {
            int status = 0;
            pid_t pid = waitpid(-1, &status, WNOHANG);
            if (pid > 0) {
                dispatch_exit(pid, status);
                continue;
            }
            if (pid < 0 && errno == EINTR)
                continue;
            return; // 0: children left but none ended; ECHILD: no children at all
        }
    }
    std::vector<pid_t> pids = m_adopted;
    for (auto const& session : m_sessions)
        session->append_unreaped_pids(pids);
    for (pid_t pid : pids) {
        int status = 0;
        pid_t ended;
        do
            ended = waitpid(pid, &status, WNOHANG);
        while (ended < 0 && errno == EINTR);
        if (ended == pid)
            dispatch_exit(pid, status);
    }
}

void AgentServer::dispatch_exit(pid_t pid, int wait_status)
{
    for (auto& session : m_sessions) {
        if (session->on_child_exit(pid, wait_status))
            return;
    }
    // An adopted child, or (as PID 1) an orphan: reaping it was all there was to do.
    std::erase(m_adopted, pid);
}

} // namespace husk::agent
