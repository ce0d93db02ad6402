// AgentSession: one host connection. Decodes requests (strictly, as sent by the host), runs the
// execs and file operations they name under the host's correlation ids, and queues the replies.
// Handlers only change state and queue frames; the server calls after_events() after each event
// batch, which flushes, finishes jobs, streams file reads, applies backpressure and decides when
// the connection is done. The server destroys a session once is_closed(), never inside a handler.
//
// Connection end: a peer half-close (EOF without hangup) stops requests but lets running execs
// and reads finish and flush; a hangup, a send error, or a protocol violation (after its
// ErrorReply is flushed, within a limit) ends the connection and SIGKILLs its jobs.
#pragma once

#include "guest-init/agent/agent_options.hpp"
#include "guest-init/agent/exec_job.hpp"
#include "guest-init/agent/file_transfer.hpp"
#include "guest-init/agent/output_queue.hpp"
#include "guest-init/agent/poller.hpp"
#include "guest-init/agent/timer.hpp"
#include "guest-init/protocol/frame.hpp"
#include "guest-init/protocol/messages.hpp"

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace husk::agent {

// What a session needs from the server.
class SessionHost {
public:
    virtual Poller& poller() = 0;
    virtual AgentOptions const& options() const = 0;
    // A job no session supervises any more (killed, or failed to spawn): reap it eventually.
    virtual void adopt_child(pid_t pid) = 0;
    virtual void request_shutdown(class AgentSession const& requester) = 0;

protected:
    ~SessionHost() = default;
};

// Capabilities the agent implements, sent in HelloReply.
inline constexpr uint64_t agent_capabilities = protocol::capability_bit(protocol::Capability::Exec)
    | protocol::capability_bit(protocol::Capability::Stdin) | protocol::capability_bit(protocol::Capability::Files)
    | protocol::capability_bit(protocol::Capability::Rlimits)
    | protocol::capability_bit(protocol::Capability::RefreshNetwork);

class AgentSession final : public JobHost {
public:
    // Takes a connected stream socket (made non-blocking here).
    static Result<std::unique_ptr<AgentSession>> create(Fd stream, SessionHost& host);
    ~AgentSession();
    AgentSession(AgentSession const&) = delete;
    AgentSession& operator=(AgentSession const&) = delete;

    void after_events();
    bool is_closed() const { return m_state == State::Closed; }
    bool has_queued_output() const { return !m_queue.is_empty(); }

    // Reaping: true when `pid` was one of this session's jobs (now told about its end).
    bool on_child_exit(pid_t pid, int wait_status);
    void append_unreaped_pids(std::vector<pid_t>& pids) const;

    // JobHost
    void send(uint32_t correlation_id, protocol::Message const& message) override;
    bool output_paused() const override { return m_queue.room() == OutputQueue::Room::Full; }
    Poller& poller() override { return m_host.poller(); }
    std::chrono::milliseconds drain_grace() const override { return m_host.options().drain_grace; }

private:
    enum class State {
        Open, // serving requests
        PeerClosed, // host half-closed: finishing what runs, then closing
        Failing, // protocol violation: flushing the ErrorReply, then closing
        Closed, // to be destroyed
    };

    AgentSession(Fd stream, SessionHost& host);
    void on_socket(uint32_t events);
    void read_requests(uint32_t events);
    void process_frames();
    void handle_frame(protocol::Frame const& frame);
    bool accepting_requests() const;
    void fail_protocol(uint32_t correlation_id, std::string message);
    void on_peer_half_close();
    void drop_operations();
    void close_now();
    void finish_jobs();
    void pump_reads();
    void flush();
    void update_socket_interest();

    // Request handlers (session_requests.cpp).
    void handle_message(uint32_t id, protocol::Message const& message);
    void handle(uint32_t id, protocol::Hello const& message);
    void handle(uint32_t id, protocol::Ping const& message);
    void handle(uint32_t id, protocol::Shutdown const& message);
    void handle(uint32_t id, protocol::Refresh const& message);
    void handle(uint32_t id, protocol::Exec const& message);
    void handle(uint32_t id, protocol::Stdin const& message);
    void handle(uint32_t id, protocol::StdinClose const& message);
    void handle(uint32_t id, protocol::Signal const& message);
    void handle(uint32_t id, protocol::FileWrite const& message);
    void handle(uint32_t id, protocol::FileRead const& message);
    void handle(uint32_t id, protocol::Stat const& message);
    void handle(uint32_t id, protocol::Mkdir const& message);
    void handle(uint32_t id, protocol::Remove const& message);
    void handle(uint32_t id, protocol::Pong const& message);
    void handle(uint32_t id, protocol::ErrorReply const& message);
    template<typename GuestMessage>
    void handle(uint32_t id, GuestMessage const&);
    void write_chunk(uint32_t id, FileWriter& writer, protocol::FileWrite const& chunk);
    void remember_failed_write(uint32_t id, protocol::FileWrite const& chunk);
    // An ErrorReply and false when `id` cannot start a new operation.
    bool check_new_operation(uint32_t id);
    ExecJob* find_job(uint32_t id);
    void send_error(uint32_t id, protocol::ErrorCode code, std::string message);

    SessionHost& m_host;
    Fd m_fd;
    Watch m_watch;
    State m_state { State::Open };
    OutputQueue m_queue;
    protocol::FrameDecoder m_decoder;
    bool m_decoder_drained { true }; // next() said "need more bytes": the socket may be read
    std::optional<Timer> m_failure_timer;
    Watch m_failure_watch;

    std::map<uint32_t, std::unique_ptr<ExecJob>> m_jobs;
    std::map<uint32_t, FileWriter> m_writers;
    std::map<uint32_t, FileReader> m_readers;
    // Uploads that failed with chunks possibly still in flight: those chunks are dropped quietly
    // rather than each drawing an ErrorReply or resuming the write. Bounded, oldest forgotten.
    std::deque<uint32_t> m_failed_writes;
};

} // namespace husk::agent
