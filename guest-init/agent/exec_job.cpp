// ExecJob state machine.
#include "guest-init/agent/exec_job.hpp"

#include "guest-init/agent/child_signal.hpp"

#include <cerrno>
#include <csignal>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace husk::agent {

using namespace protocol;

namespace {

    // One pipe's worth (the Linux default pipe size) per read: a full pipe empties in one call.
    constexpr size_t output_read_size = 64 * 1024;
    static_assert(output_read_size <= max_chunk_size);
    constexpr uint32_t readable = EPOLLIN;
    constexpr uint32_t writable = EPOLLOUT;
    constexpr uint32_t no_events = 0;

} // namespace

Result<std::unique_ptr<ExecJob>> ExecJob::start(
    uint32_t correlation_id, Exec const& exec, SpawnDefaults const& defaults, JobHost& host)
{
    std::unique_ptr<ExecJob> job(new ExecJob(correlation_id, exec.output_limit_bytes, host));
    job->m_plan = plan_spawn(exec, defaults);
    job->m_timer = TRY(Timer::create());
    auto process = TRY(start_process(job->m_plan));
    job->m_pid = process.pid;
    job->m_started = std::chrono::steady_clock::now();
    if (auto watched = job->watch_fds(process, std::chrono::milliseconds(exec.timeout_ms)); !watched) {
        // The child runs but cannot be supervised. SIGKILL ends it promptly, so waiting here
        // is short, and no zombie is left for a reaper that never learns its pid.
        job->kill_group();
        while (waitpid(job->m_pid, nullptr, 0) < 0 && errno == EINTR) { }
        return unexpected(std::move(watched).error());
    }
    return job;
}

Result<void> ExecJob::watch_fds(SpawnedProcess& process, std::chrono::milliseconds timeout)
{
    auto& poller = m_host.poller();
    m_report_fd = std::move(process.report_pipe);
    m_report_watch = TRY(poller.watch(m_report_fd.get(), EPOLLIN, [this](uint32_t) { on_report(); }));
    m_outputs[0].fd = std::move(process.stdout_pipe);
    m_outputs[1].fd = std::move(process.stderr_pipe);
    for (auto& pipe : m_outputs)
        pipe.watch = TRY(poller.watch(pipe.fd.get(), EPOLLIN, [this, &pipe](uint32_t) { on_output(pipe); }));
    if (process.stdin_pipe.is_valid()) {
        m_stdin_fd = std::move(process.stdin_pipe);
        m_stdin_state = StdinState::Open;
        m_stdin_watch = TRY(poller.watch(m_stdin_fd.get(), 0, [this](uint32_t) { on_stdin_writable(); }));
    }
    m_timer_watch = TRY(poller.watch(m_timer->fd(), EPOLLIN, [this](uint32_t) { on_timer(); }));
    if (timeout.count() > 0)
        TRY(m_timer->arm(timeout));
    return {};
}

void ExecJob::on_reaped(int wait_status)
{
    m_wait_status = wait_status;
    m_ended = std::chrono::steady_clock::now();
    if (m_report.status == ReportStatus::Pending)
        settle_report(ChildState::Reaped);
    // The timer now measures the drain grace. If arming fails the pipes close at once rather
    // than risk waiting forever on a grandchild.
    if (!outputs_open() || !m_timer->arm(m_host.drain_grace()))
        for (auto& pipe : m_outputs)
            close_output(pipe);
}

void ExecJob::send_signal(int signal)
{
    // Until the job is reaped its pid (and so its group id) cannot be reused.
    if (is_reaped())
        return;
    // ESRCH for the group: the child has not reached setsid() yet; signal the process itself.
    if (kill(-m_pid, signal) < 0 && errno == ESRCH)
        kill(m_pid, signal);
}

Result<void> ExecJob::write_stdin(std::vector<uint8_t> data)
{
    switch (m_stdin_state) {
    case StdinState::NotOpen:
        return fail("the job was started without stdin_open");
    case StdinState::Closing:
    case StdinState::Closed:
        return fail("the job's stdin was already closed");
    case StdinState::Broken:
        return {}; // the reader is gone; like a pipe, the data goes nowhere
    case StdinState::Open:
        break;
    }
    if (data.empty())
        return {};
    m_stdin_backlog_size += data.size();
    m_stdin_backlog.push_back(std::move(data));
    flush_stdin();
    return {};
}

Result<void> ExecJob::close_stdin()
{
    switch (m_stdin_state) {
    case StdinState::NotOpen:
        return fail("the job was started without stdin_open");
    case StdinState::Open:
        m_stdin_state = StdinState::Closing;
        flush_stdin();
        return {};
    case StdinState::Closing:
    case StdinState::Closed:
    case StdinState::Broken:
        return {}; // closing twice changes nothing
    }
    return {};
}

void ExecJob::on_stdin_writable() { flush_stdin(); }

void ExecJob::flush_stdin()
{
    while (!m_stdin_backlog.empty()) {
        auto const& front = m_stdin_backlog.front();
        ssize_t written
            = write(m_stdin_fd.get(), front.data() + m_stdin_front_offset, front.size() - m_stdin_front_offset);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            if (errno == EPIPE)
                ChildSignal::discard_pending_sigpipe();
            close_stdin_pipe(StdinState::Broken);
            return;
        }
        m_stdin_front_offset += static_cast<size_t>(written);
        m_stdin_backlog_size -= static_cast<size_t>(written);
        if (m_stdin_front_offset == front.size()) {
            m_stdin_backlog.pop_front();
            m_stdin_front_offset = 0;
        }
    }
    if (m_stdin_backlog.empty() && m_stdin_state == StdinState::Closing)
        close_stdin_pipe(StdinState::Closed);
    else
        update_interest();
}

void ExecJob::close_stdin_pipe(StdinState state)
{
    m_stdin_watch.reset();
    m_stdin_fd.reset();
    m_stdin_backlog.clear();
    m_stdin_backlog_size = 0;
    m_stdin_front_offset = 0;
    m_stdin_state = state;
}

void ExecJob::on_output(OutputPipe& pipe)
{
    // The queue filled earlier in this event batch; progress() pauses the pipe after it.
    if (m_host.output_paused() && !over_cap(pipe))
        return;
    uint8_t buffer[output_read_size];
    ssize_t got = read(pipe.fd.get(), buffer, sizeof buffer);
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (got <= 0) {
        close_output(pipe); // EOF, or an error that leaves nothing more to read
        return;
    }
    forward(pipe, buffer, static_cast<size_t>(got));
}

void ExecJob::forward(OutputPipe& pipe, uint8_t const* data, size_t size)
{
    size_t allowed = size;
    if (m_output_limit != 0) {
        uint64_t left = m_output_limit - std::min(pipe.forwarded, m_output_limit);
        allowed = static_cast<size_t>(std::min<uint64_t>(left, size));
    }
    if (allowed < size)
        pipe.truncated = true; // the rest is read and dropped, so the job never blocks on it
    if (allowed == 0)
        return;
    pipe.forwarded += allowed;
    m_host.send(m_id, Output { pipe.stream, std::vector<uint8_t>(data, data + allowed) });
}

bool ExecJob::over_cap(OutputPipe const& pipe) const { return m_output_limit != 0 && pipe.forwarded >= m_output_limit; }

void ExecJob::close_output(OutputPipe& pipe)
{
    pipe.watch.reset();
    pipe.fd.reset();
}

bool ExecJob::outputs_open() const { return m_outputs[0].fd.is_valid() || m_outputs[1].fd.is_valid(); }

void ExecJob::on_report()
{
    if (m_report.status == ReportStatus::Pending)
        settle_report(ChildState::MayBeRunning);
}

void ExecJob::settle_report(ChildState state)
{
    m_report = read_spawn_report(m_report_fd.get(), m_plan, state);
    // Once settled, the pipe (now at EOF) must not be read again: a readiness event still queued
    // in this batch would find EOF and turn a failure into success.
    if (m_report.status != ReportStatus::Pending) {
        m_report_watch.reset();
        m_report_fd.reset();
    }
}

void ExecJob::on_timer()
{
    if (!m_timer->consume())
        return; // re-armed (the job was reaped) since this event was queued
    if (!is_reaped()) {
        m_timed_out = true;
        kill_group(); // SIGKILL cannot be caught or ignored: the Exited follows promptly
        return;
    }
    // Drain grace over. While the connection is backed up the pipes may hold output the host
    // has not had room for yet, so the grace restarts instead of cutting it off.
    bool waiting_for_room = false;
    for (auto const& pipe : m_outputs)
        waiting_for_room = waiting_for_room || (pipe.fd.is_valid() && m_host.output_paused() && !over_cap(pipe));
    if (waiting_for_room && m_timer->arm(m_host.drain_grace()))
        return;
    for (auto& pipe : m_outputs)
        close_output(pipe);
}

void ExecJob::update_interest()
{
    bool paused = m_host.output_paused();
    for (auto& pipe : m_outputs) {
        if (pipe.watch.is_active() && !pipe.watch.set_events(paused && !over_cap(pipe) ? no_events : readable))
            close_output(pipe);
    }
    if (m_stdin_watch.is_active() && !m_stdin_watch.set_events(m_stdin_backlog.empty() ? no_events : writable))
        close_stdin_pipe(StdinState::Broken);
}

ExecJob::Progress ExecJob::progress()
{
    if (m_report.status == ReportStatus::Failed) {
        m_host.send(m_id, m_report.failure);
        return Progress::Done;
    }
    if (m_report.status == ReportStatus::Succeeded && is_reaped() && !outputs_open()) {
        m_host.send(m_id, exited());
        return Progress::Done;
    }
    update_interest();
    return Progress::Running;
}

Exited ExecJob::exited() const
{
    Exited message;
    int status = *m_wait_status;
    if (m_timed_out) {
        message.kind = ExitKind::TimedOut;
        message.value = SIGKILL;
    } else if (WIFSIGNALED(status)) {
        message.kind = ExitKind::Signal;
        message.value = static_cast<uint32_t>(WTERMSIG(status));
    } else {
        message.kind = ExitKind::Code;
        message.value = static_cast<uint32_t>(WEXITSTATUS(status));
    }
    message.stdout_truncated = m_outputs[0].truncated;
    message.stderr_truncated = m_outputs[1].truncated;
    message.duration_us
        = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(m_ended - m_started).count());
    return message;
}

} // namespace husk::agent
