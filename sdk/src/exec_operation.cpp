// ExecOperation: turning the agent's job messages into a RunResult.
#include "sdk/src/exec_operation.hpp"

#include "guest-init/protocol/message_type.hpp"

#include <csignal>

namespace husk::detail {

using namespace husk::protocol;

SpawnErrorKind spawn_error_kind(SpawnError error)
{
    switch (error) {
    case SpawnError::NotFound:
        return SpawnErrorKind::NotFound;
    case SpawnError::PermissionDenied:
    case SpawnError::NotExecutable:
        return SpawnErrorKind::NotExecutable;
    case SpawnError::BadCwd:
        return SpawnErrorKind::BadWorkdir;
    default:
        return SpawnErrorKind::Other;
    }
}

ExecOperation::ExecOperation(std::shared_ptr<AgentClient> client, OutputCallback on_stdout, OutputCallback on_stderr,
    uint64_t output_limit_bytes)
    : m_client(std::move(client))
    , m_on_stdout(std::move(on_stdout))
    , m_on_stderr(std::move(on_stderr))
    , m_output_limit(output_limit_bytes)
{
}

Result<void> ExecOperation::begin(Exec const& exec)
{
    m_started = std::chrono::steady_clock::now();
    // The client holds a reference until the final message, so a handler running on the reader
    // thread never outlives the operation even when the Process is dropped meanwhile.
    m_id = TRY(m_client->begin(shared_from_this(), exec));
    return {};
}

void ExecOperation::take_output(Output const& output)
{
    bool is_stdout = output.stream == OutputStream::Stdout;
    auto const& callback = is_stdout ? m_on_stdout : m_on_stderr;
    if (callback) {
        callback(std::span<uint8_t const>(output.data));
        return;
    }
    std::lock_guard lock(m_mutex);
    auto& kept = is_stdout ? m_result.stdout_data : m_result.stderr_data;
    auto& truncated = is_stdout ? m_result.stdout_truncated : m_result.stderr_truncated;
    uint64_t room
        = m_output_limit == 0 ? output.data.size() : (kept.size() >= m_output_limit ? 0 : m_output_limit - kept.size());
    size_t taken = static_cast<size_t>(std::min<uint64_t>(room, output.data.size()));
    kept.append(output.data.begin(), output.data.begin() + static_cast<std::ptrdiff_t>(taken));
    if (taken < output.data.size())
        truncated = true;
}

void ExecOperation::finish(RunResult result)
{
    {
        std::lock_guard lock(m_mutex);
        result.stdout_data = std::move(m_result.stdout_data);
        result.stderr_data = std::move(m_result.stderr_data);
        result.stdout_truncated = result.stdout_truncated || m_result.stdout_truncated;
        result.stderr_truncated = result.stderr_truncated || m_result.stderr_truncated;
        result.wall_duration
            = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - m_started);
        m_result = std::move(result);
        m_finished = true;
    }
    m_finished_changed.notify_all();
}

bool ExecOperation::on_message(Message message)
{
    if (auto* output = std::get_if<Output>(&message)) {
        take_output(*output);
        return false;
    }
    RunResult result;
    if (auto* exited = std::get_if<Exited>(&message)) {
        result.status = exited->kind == ExitKind::Code ? RunStatus::Exited
            : exited->kind == ExitKind::Signal         ? RunStatus::Signaled
                                                       : RunStatus::TimedOut;
        result.exit_code = exited->kind == ExitKind::Code ? static_cast<int>(exited->value) : -1;
        result.signal = exited->kind == ExitKind::Code ? 0 : static_cast<int>(exited->value);
        result.stdout_truncated = exited->stdout_truncated;
        result.stderr_truncated = exited->stderr_truncated;
        result.guest_duration = std::chrono::microseconds(exited->duration_us);
        finish(std::move(result));
        return true;
    }
    if (auto* failed = std::get_if<SpawnFailed>(&message)) {
        result.status = RunStatus::SpawnFailed;
        result.spawn_error = spawn_error_kind(failed->error);
        result.spawn_message = failed->message;
        finish(std::move(result));
        return true;
    }
    if (auto* error = std::get_if<ErrorReply>(&message)) {
        on_failure(Error { "the agent refused the job: " + error->message, 0, ErrorKind::Guest });
        return true;
    }
    on_failure(Error { "the agent sent " + std::string(message_type_name(message_type(message))) + " for a job", 0,
        ErrorKind::AgentDisconnected });
    return true;
}

void ExecOperation::on_failure(Error const& error)
{
    {
        std::lock_guard lock(m_mutex);
        if (m_finished)
            return;
        m_error = error;
        m_finished = true;
    }
    m_finished_changed.notify_all();
}

Result<void> ExecOperation::send(Message const& message)
{
    if (is_finished())
        return fail(ErrorKind::Guest, "the job has already ended");
    return m_client->send(m_id, message);
}

bool ExecOperation::is_finished() const
{
    std::lock_guard lock(m_mutex);
    return m_finished;
}

Result<RunResult> ExecOperation::wait(std::optional<std::chrono::steady_clock::time_point> deadline)
{
    std::unique_lock lock(m_mutex);
    auto done = [&] { return m_finished; };
    if (deadline) {
        if (!m_finished_changed.wait_until(lock, *deadline, done))
            return fail(ErrorKind::Timeout, "the job is still running");
    } else {
        m_finished_changed.wait(lock, done);
    }
    if (m_error)
        return unexpected(*m_error);
    return m_result;
}

void ExecOperation::abandon()
{
    if (m_id == 0)
        return;
    if (!is_finished())
        (void)m_client->send(m_id, Signal { SIGKILL });
    m_client->forget(m_id);
}

} // namespace husk::detail
