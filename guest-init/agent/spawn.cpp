// Job start. The agent may run in a multi-threaded process (the unit tests run it beside the test
// thread), so between fork() and execve() the child calls only async-signal-safe functions and
// touches only memory prepared before the fork.
#include "guest-init/agent/spawn.hpp"

#include "guest-init/job.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <sys/resource.h>
#include <unistd.h>
#include <unordered_map>

namespace husk::agent {

using protocol::SpawnError;

namespace {

    constexpr std::string_view path_prefix = "PATH=";
    constexpr int first_free_fd = 3; // above stdin, stdout, stderr
    constexpr int child_failure_exit_code = 127;
    constexpr char const* null_device = "/dev/null";

    std::string_view variable_name(std::string const& entry)
    {
        return std::string_view(entry).substr(0, entry.find('='));
    }

    struct Pipe {
        Fd read;
        Fd write;
    };

    // Close-on-exec; the agent's end is made non-blocking, the child's end stays blocking
    // because the job expects ordinary blocking stdio.
    enum class AgentEnd { Read, Write };
    Result<Pipe> make_pipe(AgentEnd agent_end)
    {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
            return fail_errno("pipe2");
        Pipe pipe { Fd(fds[0]), Fd(fds[1]) };
        int agent_fd = agent_end == AgentEnd::Read ? pipe.read.get() : pipe.write.get();
        if (fcntl(agent_fd, F_SETFL, O_NONBLOCK) < 0)
            return fail_errno("fcntl O_NONBLOCK");
        return pipe;
    }

    // The child dup2()s its ends onto 0-2; an end that already is one of those numbers would be
    // clobbered (or keep close-on-exec), so it moves up first. Only possible when the agent runs
    // with a standard fd closed.
    Result<Fd> above_stdio(Fd fd)
    {
        if (fd.get() >= first_free_fd)
            return fd;
        int moved = fcntl(fd.get(), F_DUPFD_CLOEXEC, first_free_fd);
        if (moved < 0)
            return fail_errno("fcntl F_DUPFD_CLOEXEC");
        return Fd(moved);
    }

    [[noreturn]] void child_fail(int report_fd, ChildStep step, int error)
    {
        ChildFailure failure { step, error };
        // Best effort: if this write fails the agent sees EOF and reports exit code 127.
        [[maybe_unused]] auto written = write(report_fd, &failure, sizeof failure);
        _exit(child_failure_exit_code);
    }

    void reset_signals()
    {
        struct sigaction default_action { };
        default_action.sa_handler = SIG_DFL;
        for (int signal = 1; signal < NSIG; ++signal)
            sigaction(signal, &default_action, nullptr); // EINVAL for SIGKILL/SIGSTOP/libc-reserved
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
    }

    struct ChildFds {
        int stdin_fd;
        int stdout_fd;
        int stderr_fd;
        int report_fd;
    };

    [[noreturn]] void run_child(SpawnPlan const& plan, char* const* argv, char* const* envp, ChildFds fds)
    {
        // A session of its own makes the job a process group leader: kill(-pid) then reaches it
        // and everything it starts, never the agent.
        setsid();
        if (dup2(fds.stdin_fd, STDIN_FILENO) < 0 || dup2(fds.stdout_fd, STDOUT_FILENO) < 0
            || dup2(fds.stderr_fd, STDERR_FILENO) < 0)
            child_fail(fds.report_fd, ChildStep::Stdio, errno);
        reset_signals();

        // Limits before the user switch: lowering the uid loses the right to raise hard limits.
        for (auto const& limit : plan.rlimits) {
            rlimit value { static_cast<rlim_t>(limit.soft), static_cast<rlim_t>(limit.hard) };
            if (setrlimit(static_cast<__rlimit_resource>(limit.resource), &value) < 0)
                child_fail(fds.report_fd, ChildStep::Rlimits, errno);
        }
        if (plan.uid != 0 || plan.gid != 0) {
            // Root's supplementary groups must not follow the job to another user.
            if (setgroups(0, nullptr) < 0)
                child_fail(fds.report_fd, ChildStep::User, errno);
            if (plan.gid != 0 && setgid(plan.gid) < 0)
                child_fail(fds.report_fd, ChildStep::User, errno);
            if (plan.uid != 0 && setuid(plan.uid) < 0)
                child_fail(fds.report_fd, ChildStep::User, errno);
        }
        // After the user switch, so the directory must be accessible to the job's user.
        if (chdir(plan.cwd.c_str()) < 0)
            child_fail(fds.report_fd, ChildStep::Cwd, errno);

        init::ExecErrorFold fold;
        for (auto const& candidate : plan.candidates) {
            execve(candidate.c_str(), argv, envp);
            if (fold.record(errno) == init::ExecErrorFold::Next::Stop)
                break;
        }
        child_fail(fds.report_fd, ChildStep::Exec, plan.candidates.empty() ? ENOENT : fold.result());
    }

    std::vector<char*> c_strings(std::vector<std::string> const& strings)
    {
        std::vector<char*> pointers;
        pointers.reserve(strings.size() + 1);
        for (auto const& text : strings)
            pointers.push_back(const_cast<char*>(text.c_str()));
        pointers.push_back(nullptr);
        return pointers;
    }

    std::string failure_message(ChildFailure failure, SpawnPlan const& plan)
    {
        std::string reason = std::strerror(failure.errno_value);
        switch (failure.step) {
        case ChildStep::Stdio:
            return "cannot set up the job's stdin/stdout/stderr: " + reason;
        case ChildStep::Rlimits:
            return "cannot set the job's resource limits: " + reason;
        case ChildStep::User:
            return "cannot switch to uid " + std::to_string(plan.uid) + " gid " + std::to_string(plan.gid) + ": "
                + reason;
        case ChildStep::Cwd:
            return "cannot change to the working directory " + plan.cwd + ": " + reason;
        case ChildStep::Exec:
            break;
        }
        return "cannot execute " + plan.argv.front() + ": " + reason;
    }

    SpawnError spawn_error_for(ChildFailure failure)
    {
        switch (failure.step) {
        case ChildStep::Rlimits:
            return SpawnError::ResourceLimit;
        case ChildStep::User:
            return SpawnError::BadUser;
        case ChildStep::Cwd:
            return SpawnError::BadCwd;
        case ChildStep::Exec:
            return spawn_error_from_exec_errno(failure.errno_value);
        case ChildStep::Stdio:
            break;
        }
        return SpawnError::Other;
    }

} // namespace

std::vector<std::string> merge_environment(std::vector<std::string> const& env, std::string_view default_path)
{
    std::vector<std::string> merged;
    std::unordered_map<std::string_view, size_t> index_of; // views into `env`, which outlives the map
    bool has_path = false;
    for (auto const& entry : env) {
        auto name = variable_name(entry);
        has_path = has_path || name == "PATH";
        auto [found, inserted] = index_of.emplace(name, merged.size());
        if (inserted)
            merged.push_back(entry);
        else
            merged[found->second] = entry;
    }
    if (!has_path)
        merged.push_back(std::string(path_prefix) + std::string(default_path));
    return merged;
}

SpawnPlan plan_spawn(protocol::Exec const& exec, SpawnDefaults const& defaults)
{
    SpawnPlan plan;
    plan.argv = exec.argv;
    plan.env = merge_environment(exec.env, defaults.path);
    std::string_view path = defaults.path;
    for (auto const& entry : plan.env) {
        if (std::string_view(entry).starts_with(path_prefix))
            path = std::string_view(entry).substr(path_prefix.size());
    }
    plan.candidates = exec.argv.empty() ? std::vector<std::string> {} : init::exec_candidates(exec.argv[0], path);
    plan.cwd = exec.cwd.empty() ? defaults.cwd : exec.cwd;
    plan.uid = exec.uid;
    plan.gid = exec.gid;
    plan.rlimits = exec.rlimits;
    plan.stdin_mode = exec.stdin_open ? StdinMode::Pipe : StdinMode::DevNull;
    return plan;
}

Result<SpawnedProcess> start_process(SpawnPlan const& plan)
{
    if (plan.argv.empty())
        return fail("spawn: empty argv");
    auto argv = c_strings(plan.argv);
    auto envp = c_strings(plan.env);

    Fd child_stdin;
    Fd agent_stdin;
    if (plan.stdin_mode == StdinMode::Pipe) {
        auto pipe = TRY(make_pipe(AgentEnd::Write));
        child_stdin = std::move(pipe.read);
        agent_stdin = std::move(pipe.write);
    } else {
        child_stdin = TRY(Fd::open(null_device, O_RDONLY));
    }
    auto out = TRY(make_pipe(AgentEnd::Read));
    auto err = TRY(make_pipe(AgentEnd::Read));
    auto report = TRY(make_pipe(AgentEnd::Read));
    child_stdin = TRY(above_stdio(std::move(child_stdin)));
    out.write = TRY(above_stdio(std::move(out.write)));
    err.write = TRY(above_stdio(std::move(err.write)));

    pid_t pid = fork();
    if (pid < 0)
        return fail_errno("fork");
    if (pid == 0)
        run_child(plan, argv.data(), envp.data(),
            ChildFds { child_stdin.get(), out.write.get(), err.write.get(), report.write.get() });

    // The child's ends close here, so EOF on the agent's ends means the job (and whatever it
    // started) closed them.
    return SpawnedProcess {
        .pid = pid,
        .stdin_pipe = std::move(agent_stdin),
        .stdout_pipe = std::move(out.read),
        .stderr_pipe = std::move(err.read),
        .report_pipe = std::move(report.read),
    };
}

SpawnReport read_spawn_report(int report_fd, SpawnPlan const& plan, ChildState state)
{
    ChildFailure failure {};
    ssize_t got;
    do
        got = read(report_fd, &failure, sizeof failure);
    while (got < 0 && errno == EINTR);
    if (got == static_cast<ssize_t>(sizeof failure)) {
        return SpawnReport { ReportStatus::Failed,
            protocol::SpawnFailed { spawn_error_for(failure), failure_message(failure, plan) } };
    }
    // EOF: the write end closed at execve. EAGAIN: still open, in our child before its execve or
    // briefly in a sibling forked meanwhile; after the child is reaped that is success too. A
    // short record cannot happen for an 8-byte write to a pipe; it is treated like EOF.
    if (got == 0 || got > 0 || state == ChildState::Reaped)
        return SpawnReport { ReportStatus::Succeeded, {} };
    return SpawnReport {};
}

SpawnError spawn_error_from_exec_errno(int error)
{
    // husk-init's one-shot mapping; its SpawnError values 1..5 equal the protocol's.
    return static_cast<SpawnError>(init::spawn_error_from_errno(error));
}

} // namespace husk::agent
