// `husk run`. The main thread blocks the forwarded signals before any thread exists and waits in
// poll() on stdin, a signalfd and an eventfd the waiter thread sets when the job ends, so stdin is
// pumped, signals are forwarded and the end is noticed without polling loops.
#include "sdk/cli/run_command.hpp"

#include "husk/exit_status.hpp"
#include "husk/sandbox.hpp"
#include "husk/units.hpp"
#include "runtime/base/event_fd.hpp"
#include "runtime/base/fd.hpp"
#include "sdk/cli/boot_progress.hpp"
#include "sdk/cli/error_line.hpp"
#include "sdk/cli/json_result.hpp"

#include <csignal>
#include <cstdio>
#include <poll.h>
#include <sys/signalfd.h>
#include <thread>
#include <unistd.h>

namespace husk::cli {

namespace {

    constexpr int forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    constexpr size_t stdin_chunk = 256 * 1024;
    constexpr std::chrono::seconds host_timeout_grace { 10 };

    void say(bool quiet, std::string const& line)
    {
        if (!quiet)
            std::fprintf(stderr, "husk: %s\n", line.c_str());
    }

    int fail_run(RunCommand const& command, Error const& error)
    {
        if (command.json)
            std::printf("%s\n", error_json(error, exit_status_runtime_error).c_str());
        // Errors are printed even with -q: the exit status alone cannot say what went wrong.
        std::fprintf(stderr, "husk: %s\n", (command.verbose ? error.message : one_line(error.message)).c_str());
        return exit_status_runtime_error;
    }

    OutputCallback pass_to(int fd)
    {
        return [fd](std::span<uint8_t const> chunk) { (void)write_all(fd, chunk.data(), chunk.size()); };
    }

    Result<Fd> block_forwarded_signals()
    {
        sigset_t set;
        sigemptyset(&set);
        for (int signo : forwarded_signals)
            sigaddset(&set, signo);
        if (sigprocmask(SIG_BLOCK, &set, nullptr) < 0)
            return fail_errno("sigprocmask");
        Fd fd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
        if (!fd.is_valid())
            return fail_errno("signalfd");
        return fd;
    }

    // A wedged guest ignores forwarded signals; this many interrupts make husk give up on it.
    constexpr int interrupts_to_abandon = 3;

    enum class Ending { JobEnded, Abandoned };

    // Pumps stdin and forwards signals until the job ends (`done` fires) or the user insists.
    Ending supervise(Process& process, int signal_fd, int done_fd, bool quiet)
    {
        int interrupts = 0;
        bool stdin_open = true;
        std::vector<uint8_t> buffer(stdin_chunk);
        for (;;) {
            pollfd fds[3]
                = { { done_fd, POLLIN, 0 }, { signal_fd, POLLIN, 0 }, { stdin_open ? STDIN_FILENO : -1, POLLIN, 0 } };
            if (poll(fds, 3, -1) < 0 && errno != EINTR)
                return Ending::JobEnded;
            if (fds[0].revents)
                return Ending::JobEnded;
            if (fds[1].revents) {
                signalfd_siginfo info {};
                while (read(signal_fd, &info, sizeof info) == sizeof info) {
                    auto signo = static_cast<int>(info.ssi_signo);
                    if (signo == SIGINT && ++interrupts >= interrupts_to_abandon) {
                        say(false, "interrupted " + std::to_string(interrupts) + " times: stopping the VM");
                        return Ending::Abandoned;
                    }
                    say(quiet, std::string("forwarding SIG") + sigabbrev_np(signo) + " to the job");
                    (void)process.signal(signo);
                }
            }
            if (fds[2].revents) {
                ssize_t got = read(STDIN_FILENO, buffer.data(), buffer.size());
                if (got < 0 && errno == EINTR)
                    continue;
                if (got > 0 && process.write_stdin(std::span<uint8_t const>(buffer.data(), static_cast<size_t>(got))))
                    continue;
                // EOF, a read error, or the job no longer takes input.
                (void)process.close_stdin();
                stdin_open = false;
            }
        }
    }

    std::string describe_vm(SandboxOptions const& options)
    {
        std::string text = std::to_string(options.vcpus) + (options.vcpus == 1 ? " vCPU, " : " vCPUs, ")
            + units::format_size(options.memory_bytes);
        if (!options.rootfs_path.empty())
            text += ", root " + options.rootfs_path;
        return text;
    }

    void explain_end(RunResult const& result, RunCommand const& command)
    {
        if (result.status == RunStatus::SpawnFailed)
            say(false, "cannot run " + command.argv[0] + ": " + result.spawn_message);
        else if (result.timed_out())
            say(command.quiet, "the job ran past its --timeout and was killed");
        if (result.stdout_truncated || result.stderr_truncated)
            say(command.quiet, "output beyond the limit was dropped");
    }

} // namespace

int run_command(RunCommand command)
{
    auto signal_fd = block_forwarded_signals();
    if (!signal_fd)
        return fail_run(command, signal_fd.error());
    auto done = EventFd::create();
    if (!done)
        return fail_run(command, done.error());

    auto boot_started = std::chrono::steady_clock::now();
    BootProgress progress(
        progress_wanted(command.quiet || command.json, command.verbose), describe_vm(command.sandbox));
    auto sandbox = command.from_snapshot.empty() ? Sandbox::create(command.sandbox)
                                                 : Sandbox::restore(command.from_snapshot, command.sandbox);
    progress.finish();
    if (!sandbox)
        return fail_run(command, sandbox.error());
    auto boot_time
        = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - boot_started);

    if (!command.json) {
        command.job.on_stdout = pass_to(STDOUT_FILENO);
        command.job.on_stderr = pass_to(STDERR_FILENO);
    }
    auto process = sandbox->start(command.argv, command.job);
    if (!process)
        return fail_run(command, process.error());

    // The agent ends a job at its timeout; if it does not (a wedged guest), the host gives up a
    // little later rather than waiting forever.
    std::optional<std::chrono::milliseconds> limit;
    if (command.job.timeout)
        limit = *command.job.timeout + host_timeout_grace;
    std::optional<Result<RunResult>> outcome;
    std::thread waiter([&] {
        outcome.emplace(process->wait(limit));
        (void)done->signal();
    });
    auto ending = supervise(*process, signal_fd->get(), done->fd(), command.quiet);
    if (ending == Ending::Abandoned)
        (void)sandbox->shutdown(); // fails the wait, so the waiter returns
    waiter.join();
    if (ending == Ending::Abandoned)
        return exit_status_signal_base + SIGINT;

    if (!*outcome)
        return fail_run(command, outcome->error());
    auto const& result = **outcome;
    int status = docker_exit_status(result);
    if (command.json)
        std::printf("%s\n", result_json(result, status, boot_time).c_str());
    explain_end(result, command);
    return status;
}

} // namespace husk::cli
