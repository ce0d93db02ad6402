// AgentServer: the agent's event loop. It serves any number of already-connected stream sockets
// (vsock in the guest, socketpairs or unix sockets in tests) and, optionally, a listening socket,
// until a Shutdown request or stop(). It owns SIGCHLD (a signalfd) and reaps: only its own jobs,
// or, as PID 1, every child including adopted orphans.
//
// create() blocks SIGCHLD and SIGPIPE in the calling thread; run() must be called from that
// thread or from one started after create() (which inherits the mask), and no other thread of the
// process may have SIGCHLD unblocked, or the kernel may hand the signal to it instead.
#pragma once

#include "guest-init/agent/agent_options.hpp"
#include "guest-init/agent/agent_session.hpp"
#include "guest-init/agent/child_signal.hpp"
#include "guest-init/agent/poller.hpp"
#include "runtime/base/event_fd.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace husk::agent {

enum class StopReason {
    ShutdownRequested, // a host sent Shutdown, got the Ack and closed (or the limit passed)
    Stopped, // stop() was called
};

class AgentServer final : public SessionHost {
public:
    static Result<std::unique_ptr<AgentServer>> create(AgentOptions options = {});
    // SIGKILLs the process groups of all jobs still running and reaps them.
    ~AgentServer();
    AgentServer(AgentServer const&) = delete;
    AgentServer& operator=(AgentServer const&) = delete;

    // Not thread-safe: call before run() or from the run() thread.
    Result<void> add_connection(Fd stream);
    // A listening stream socket; connections beyond max_connections are closed at once.
    Result<void> add_listener(Fd listener);

    Result<StopReason> run();
    // Thread-safe and async-signal-safe: makes run() return Stopped.
    void stop() const;

    size_t connection_count() const { return m_sessions.size(); }

    // SessionHost
    Poller& poller() override { return *m_poller; }
    AgentOptions const& options() const override { return m_options; }
    void adopt_child(pid_t pid) override { m_adopted.push_back(pid); }
    void request_shutdown(AgentSession const& requester) override;

private:
    AgentServer(AgentOptions options, std::unique_ptr<Poller> poller, std::unique_ptr<ChildSignal> child_signal,
        EventFd stop_event)
        : m_options(std::move(options))
        , m_poller(std::move(poller))
        , m_child_signal(std::move(child_signal))
        , m_stop_event(std::move(stop_event))
    {
    }
    void on_child_signal();
    void dispatch_exit(pid_t pid, int wait_status);
    void on_accept();
    void after_events();
    bool shutdown_handshake_done() const;

    AgentOptions m_options;
    // Declared first so it is destroyed last: every Watch below and in the sessions refers to it.
    std::unique_ptr<Poller> m_poller;
    std::unique_ptr<ChildSignal> m_child_signal;
    EventFd m_stop_event;
    Fd m_listener;
    Watch m_signal_watch;
    Watch m_stop_watch;
    Watch m_listener_watch;
    std::vector<std::unique_ptr<AgentSession>> m_sessions;
    std::vector<pid_t> m_adopted; // children no session supervises, still to be reaped

    bool m_stop_requested { false };
    bool m_shutdown_requested { false };
    AgentSession const* m_shutdown_requester { nullptr }; // cleared when that session goes away
    std::chrono::steady_clock::time_point m_shutdown_deadline;
};

} // namespace husk::agent
