// ExecOperation: the state of one job on the agent connection, shared by the reader thread (which
// feeds it Output, Exited, SpawnFailed) and the Process handle (which writes stdin, signals and
// waits). Output goes to the caller's callbacks or into the result, bounded by the output limit
// on the host too: a forged agent cannot make the host keep more than it asked for.
#pragma once

#include "husk/options.hpp"
#include "husk/run_result.hpp"
#include "sdk/src/agent_client.hpp"
#include "sdk/src/operation.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

namespace husk::detail {

class ExecOperation final : public Operation, public std::enable_shared_from_this<ExecOperation> {
public:
    ExecOperation(std::shared_ptr<AgentClient> client, OutputCallback on_stdout, OutputCallback on_stderr,
        uint64_t output_limit_bytes);

    // Registers with the client and sends the Exec.
    Result<void> begin(protocol::Exec const& exec);

    bool on_message(protocol::Message message) override;
    void on_failure(Error const& error) override;

    uint32_t id() const { return m_id; }
    Result<void> send(protocol::Message const& message);
    Result<RunResult> wait(std::optional<std::chrono::steady_clock::time_point> deadline);
    bool is_finished() const;
    // The handle is gone: kill a job still running and stop listening.
    void abandon();

private:
    void take_output(protocol::Output const& output);
    void finish(RunResult result);

    std::shared_ptr<AgentClient> m_client;
    OutputCallback m_on_stdout;
    OutputCallback m_on_stderr;
    uint64_t m_output_limit;
    uint32_t m_id { 0 };
    std::chrono::steady_clock::time_point m_started;

    mutable std::mutex m_mutex;
    std::condition_variable m_finished_changed;
    RunResult m_result; // output accumulates here before the end
    bool m_finished { false };
    std::optional<Error> m_error;
};

SpawnErrorKind spawn_error_kind(protocol::SpawnError error);

} // namespace husk::detail
