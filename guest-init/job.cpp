// Job spawn and wait. PID 1 is single-threaded, so the child may use what the parent prepared
// (argv, candidates) freely between fork and execve.
#include "guest-init/job.hpp"

#include "runtime/base/fd.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace husk::init {

SpawnError spawn_error_from_errno(int error)
{
    switch (error) {
    case ENOENT:
    case ENOTDIR: // a path component is a file: the program is just as absent
        return SpawnError::NotFound;
    case EACCES:
        return SpawnError::PermissionDenied;
    case ENOEXEC:
        return SpawnError::NotExecutable;
    default:
        return SpawnError::Other;
    }
}

std::optional<JobOutcome> outcome_from_wait_status(int status)
{
    if (WIFEXITED(status))
        return JobOutcome::exited(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return JobOutcome::signaled(WTERMSIG(status));
    return std::nullopt;
}

std::vector<std::string> exec_candidates(std::string_view file, std::string_view path)
{
    if (file.empty())
        return {};
    if (file.find('/') != std::string_view::npos)
        return { std::string(file) };
    std::vector<std::string> candidates;
    size_t start = 0;
    for (;;) {
        size_t end = path.find(':', start);
        auto directory = path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (directory.empty())
            candidates.push_back(std::string(file));
        else
            candidates.push_back(std::string(directory) + "/" + std::string(file));
        if (end == std::string_view::npos)
            return candidates;
        start = end + 1;
    }
}

ExecErrorFold::Next ExecErrorFold::record(int error)
{
    switch (error) {
    case ENOENT:
    case ENOTDIR:
        if (m_result == 0)
            m_result = error;
        return Next::TryNextCandidate;
    case EACCES:
        m_result = EACCES;
        return Next::TryNextCandidate;
    default:
        m_result = error;
        return Next::Stop;
    }
}

namespace {

    // Runs in the child: never returns. Reports the exec errno through `report_fd` and exits.
    [[noreturn]] void exec_job(
        std::vector<std::string> const& candidates, std::vector<char*> const& argv, int report_fd)
    {
        // A session of its own makes the job its own process group leader as well; a signal aimed
        // at the job's group then never reaches PID 1.
        setsid();
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);

        ExecErrorFold fold;
        for (auto const& candidate : candidates) {
            execve(candidate.c_str(), argv.data(), environ);
            if (fold.record(errno) == ExecErrorFold::Next::Stop)
                break;
        }
        int error = candidates.empty() ? ENOENT : fold.result();
        // Best effort: if this write fails the parent sees EOF and the job's exit status instead.
        [[maybe_unused]] auto written = write(report_fd, &error, sizeof error);
        _exit(127);
    }

} // namespace

Result<pid_t> spawn_job(std::vector<std::string> const& argv)
{
    if (argv.empty())
        return fail("no job given (nothing after ` -- ` on the kernel command line)");
    char const* path = getenv("PATH");
    auto candidates = exec_candidates(argv[0], path ? path : "");
    std::vector<char*> exec_argv;
    for (auto const& argument : argv)
        exec_argv.push_back(const_cast<char*>(argument.c_str()));
    exec_argv.push_back(nullptr);

    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) < 0)
        return fail_errno("pipe2");
    Fd report_read(pipe_fds[0]);
    Fd report_write(pipe_fds[1]);

    pid_t pid = fork();
    if (pid < 0)
        return fail_errno("fork");
    if (pid == 0)
        exec_job(candidates, exec_argv, report_write.get());

    report_write.reset();
    int exec_error = 0;
    auto got = read_full(report_read.get(), &exec_error, sizeof exec_error);
    if (got && *got == 0)
        return pid; // the pipe closed on a successful execve

    // The child failed before or at execve and has exited (or is about to): collect it now so
    // the wait loop never mistakes it for the job.
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) { }
    if (!got)
        return fail_errno("reading the job's exec report", got.error().errno_value);
    if (*got != sizeof exec_error)
        return fail("short exec report from the job child");
    return fail_errno("cannot execute " + argv[0], exec_error);
}

Result<JobOutcome> wait_for_job(pid_t job)
{
    for (;;) {
        int status = 0;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno("waiting for the job");
        }
        if (pid != job)
            continue; // an adopted orphan: reaped, nothing else to do
        if (auto outcome = outcome_from_wait_status(status))
            return *outcome;
    }
}

} // namespace husk::init
