// ExecJob: one running Exec of a connection. It forwards the job's stdout/stderr as Output frames
// (in order per stream, with the per-stream cap), feeds its stdin pipe from a bounded backlog,
// enforces the timeout by SIGKILLing the whole process group, and reports Exited once the process
// is reaped and both pipes reached EOF (or the drain grace after exit ran out: a background
// grandchild may hold them open forever). Spawn failures become SpawnFailed instead.
//
// Handlers only change state; the session calls progress() after each event batch and drops the
// job once it reports Done, so a job is never destroyed inside its own handler.
#pragma once

#include "guest-init/agent/poller.hpp"
#include "guest-init/agent/spawn.hpp"
#include "guest-init/agent/timer.hpp"
#include "guest-init/protocol/messages.hpp"

#include <array>
#include <chrono>
#include <csignal>
#include <deque>
#include <memory>
#include <optional>

namespace husk::agent {

// What a job needs from its connection.
class JobHost {
public:
    virtual void send(uint32_t correlation_id, protocol::Message const& message) = 0;
    // The connection's output queue is full: stop producing output until it drains.
    virtual bool output_paused() const = 0;
    virtual Poller& poller() = 0;
    virtual std::chrono::milliseconds drain_grace() const = 0;

protected:
    ~JobHost() = default;
};

class ExecJob {
public:
    // Forks the job. An error before the fork (pipes, fork) is returned; the caller reports it as
    // SpawnFailed. Errors in the child arrive later, through progress().
    static Result<std::unique_ptr<ExecJob>> start(
        uint32_t correlation_id, protocol::Exec const& exec, SpawnDefaults const& defaults, JobHost& host);
    ExecJob(ExecJob const&) = delete;
    ExecJob& operator=(ExecJob const&) = delete;

    pid_t pid() const { return m_pid; }
    bool is_reaped() const { return m_wait_status.has_value(); }
    // The process ended (from the agent's SIGCHLD reaping).
    void on_reaped(int wait_status);

    // Sends `signal` to the job's process group (until the job is reaped).
    void send_signal(int signal);
    // SIGKILL to the group, for a connection that goes away.
    void kill_group() { send_signal(SIGKILL); }

    // Host stdin. Errors are the host's mistakes (no stdin_open, already closed) for an ErrorReply;
    // data for a job whose stdin reader is gone is dropped silently (the job may exit any time).
    Result<void> write_stdin(std::vector<uint8_t> data);
    Result<void> close_stdin();
    size_t stdin_backlog() const { return m_stdin_backlog_size; }

    enum class Progress { Running, Done };
    // Pauses or resumes the pipes for the connection's queue state, and sends the final message
    // when the job is complete. After Done the job has nothing more to say; if it is not reaped
    // (a spawn failure seen first on the report pipe) the caller must see the pid reaped.
    Progress progress();

private:
    enum class StdinState { NotOpen, Open, Closing, Closed, Broken };
    struct OutputPipe {
        protocol::OutputStream stream;
        Fd fd;
        Watch watch;
        uint64_t forwarded { 0 };
        bool truncated { false };
    };

    ExecJob(uint32_t correlation_id, uint64_t output_limit, JobHost& host)
        : m_id(correlation_id)
        , m_output_limit(output_limit)
        , m_host(host)
    {
    }
    Result<void> watch_fds(SpawnedProcess& process, std::chrono::milliseconds timeout);
    void on_output(OutputPipe& pipe);
    void forward(OutputPipe& pipe, uint8_t const* data, size_t size);
    bool over_cap(OutputPipe const& pipe) const;
    void on_report();
    void settle_report(ChildState state);
    void on_timer();
    void on_stdin_writable();
    void flush_stdin();
    void close_stdin_pipe(StdinState state);
    void close_output(OutputPipe& pipe);
    bool outputs_open() const;
    void update_interest();
    protocol::Exited exited() const;

    uint32_t m_id;
    uint64_t m_output_limit;
    JobHost& m_host;
    SpawnPlan m_plan;
    pid_t m_pid { -1 };
    std::chrono::steady_clock::time_point m_started;
    std::chrono::steady_clock::time_point m_ended;
    std::optional<int> m_wait_status;
    bool m_timed_out { false };

    SpawnReport m_report;
    Fd m_report_fd;
    Watch m_report_watch;

    std::array<OutputPipe, 2> m_outputs { OutputPipe { protocol::OutputStream::Stdout, {}, {} },
        OutputPipe { protocol::OutputStream::Stderr, {}, {} } };

    StdinState m_stdin_state { StdinState::NotOpen };
    Fd m_stdin_fd;
    Watch m_stdin_watch;
    std::deque<std::vector<uint8_t>> m_stdin_backlog;
    size_t m_stdin_front_offset { 0 };
    size_t m_stdin_backlog_size { 0 };

    // The timeout while the job runs, then the drain grace once it has been reaped.
    std::optional<Timer> m_timer;
    Watch m_timer_watch;
};

} // namespace husk::agent
