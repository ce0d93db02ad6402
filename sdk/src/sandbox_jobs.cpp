// Sandbox::run, run_shell and start: building the Exec and driving an ExecOperation.
#include "husk/sandbox.hpp"

#include "guest-init/protocol/limits.hpp"
#include "sdk/src/exec_operation.hpp"
#include "sdk/src/sandbox_state.hpp"
#include "sdk/src/step_trace.hpp"

#include <limits>

namespace husk {

using namespace std::chrono_literals;

namespace {

    // After its own timeout the agent kills a job; the host waits this much longer before it
    // gives up on the agent and reports a Timeout error instead of a TimedOut result.
    constexpr auto agent_timeout_grace = 10s;

    Result<void> check_job(std::vector<std::string> const& argv, JobOptions const& job)
    {
        if (argv.empty() || argv[0].empty())
            return fail(ErrorKind::BadConfig, "empty command");
        if (!job.workdir.empty() && job.workdir[0] != '/')
            return fail(ErrorKind::BadConfig, "workdir must be absolute: " + job.workdir);
        if (job.timeout && (*job.timeout <= 0ms || job.timeout->count() > std::numeric_limits<uint32_t>::max()))
            return fail(ErrorKind::BadConfig, "timeout must be between 1 ms and about 49 days");
        for (auto const& entry : job.env) {
            if (entry.find('=') == std::string::npos || entry[0] == '=')
                return fail(ErrorKind::BadConfig, "env entries must be NAME=value: '" + entry + "'");
        }
        return {};
    }

} // namespace

protocol::Exec detail::make_exec(SandboxOptions const& sandbox, std::vector<std::string> argv, JobOptions const& job,
    bool stdin_open, uint64_t output_limit_bytes)
{
    protocol::Exec exec;
    exec.argv = std::move(argv);
    exec.env = sandbox.env;
    exec.env.insert(exec.env.end(), job.env.begin(), job.env.end());
    exec.cwd = job.workdir.empty() ? sandbox.workdir : job.workdir;
    exec.uid = job.uid;
    exec.gid = job.gid;
    exec.stdin_open = stdin_open;
    exec.timeout_ms = job.timeout ? static_cast<uint32_t>(job.timeout->count()) : 0;
    exec.output_limit_bytes = output_limit_bytes;
    return exec;
}

Result<Process> Sandbox::start(std::vector<std::string> argv, StartOptions options)
{
    TRY(check_job(argv, options));
    if (m_state->stopped)
        return fail(ErrorKind::AgentDisconnected, "the sandbox was shut down");
    // With a callback the host keeps nothing, so the agent needs no limit for that stream; the
    // protocol has one limit for both, so it applies only when neither stream has a callback.
    bool keeps_output = !options.on_stdout || !options.on_stderr;
    uint64_t agent_limit = options.on_stdout || options.on_stderr ? 0 : options.output_limit_bytes;
    auto exec = detail::make_exec(m_state->options, std::move(argv), options, options.stdin_open, agent_limit);
    auto operation = std::make_shared<detail::ExecOperation>(m_state->client, std::move(options.on_stdout),
        std::move(options.on_stderr), keeps_output ? options.output_limit_bytes : 0);
    TRY(operation->begin(exec));
    detail::trace_step("exec sent");
    return Process(std::move(operation));
}

Result<RunResult> Sandbox::run(std::vector<std::string> argv, RunOptions const& options)
{
    StartOptions start_options;
    static_cast<JobOptions&>(start_options) = options;
    start_options.stdin_open = !options.stdin_data.empty();
    start_options.output_limit_bytes = options.output_limit_bytes;
    auto process = TRY(start(std::move(argv), std::move(start_options)));
    if (!options.stdin_data.empty()) {
        // A job that exits without reading all of its input is not an error: its result follows.
        auto written = process.write_stdin(options.stdin_data);
        if (written)
            written = process.close_stdin();
        if (!written && written.error().kind != ErrorKind::Guest && !process.has_exited())
            return unexpected(std::move(written).error());
    }
    std::optional<std::chrono::milliseconds> limit;
    if (options.timeout)
        limit = *options.timeout + agent_timeout_grace;
    auto result = process.wait(limit);
    detail::trace_step("result received");
    if (!result && result.error().kind == ErrorKind::Timeout)
        result.error().message = "the agent did not end the job after its timeout";
    return result;
}

Result<RunResult> Sandbox::run_shell(std::string script, RunOptions const& options)
{
    return run({ "/bin/sh", "-c", std::move(script) }, options);
}

} // namespace husk
