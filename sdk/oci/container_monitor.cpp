// The container monitor: the VM's owner and the container process's stand-in on the host.
#include "sdk/oci/container_monitor.hpp"

#include "sdk/oci/container_mount_namespace.hpp"
#include "sdk/oci/exec_protocol.hpp"
#include "sdk/oci/exit_like.hpp"
#include "sdk/oci/fd_passing.hpp"
#include "sdk/oci/guest_executable.hpp"
#include "sdk/oci/job_stdio.hpp"
#include "sdk/oci/oci_log.hpp"
#include "sdk/oci/sandbox_settings.hpp"

#include "husk/exit_status.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <mutex>
#include <poll.h>
#include <pty.h>
#include <set>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <thread>
#include <unistd.h>

namespace husk::oci {

namespace {

    // Signals the monitor forwards; SIGKILL and SIGSTOP cannot be caught (SIGKILL ends the
    // monitor and with it the VM: the container dies of SIGKILL, as it should).
    constexpr int forwarded_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGALRM, SIGCONT,
        SIGWINCH, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGIO, SIGSYS,
        SIGTRAP, SIGABRT, SIGPWR };

    void report(int fd, std::string const& line)
    {
        if (fd < 0)
            return;
        std::string text = line + "\n";
        (void)!write(fd, text.data(), text.size());
    }

    [[noreturn]] void fail_creation(MonitorLaunch const& launch, std::string const& message)
    {
        report(launch.report_fd, "error " + message);
        _exit(1);
    }

    sigset_t forwarded_set()
    {
        sigset_t set;
        sigemptyset(&set);
        for (int signo : forwarded_signals)
            sigaddset(&set, signo);
        for (int signo = SIGRTMIN; signo <= SIGRTMAX; ++signo)
            sigaddset(&set, signo);
        return set;
    }

    void redirect_to_null(int target)
    {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, target);
            close(null);
        }
    }

    // The exec processes of the container, each served on a thread of its own.
    class ExecSessions {
    public:
        explicit ExecSessions(Sandbox& sandbox)
            : m_sandbox(sandbox)
        {
        }

        void serve(int connection)
        {
            std::thread([this, connection] { session(connection); }).detach();
        }

        void signal_all(int signo)
        {
            std::lock_guard lock(m_mutex);
            for (auto const& process : m_processes)
                (void)process->signal(signo);
        }

    private:
        void session(int connection)
        {
            auto message = receive_with_fds(connection, max_exec_message, 3);
            if (!message || !message->payload.starts_with(exec_request_prefix) || message->fds.size() != 3) {
                if (message) {
                    for (int fd : message->fds)
                        close(fd);
                }
                close(connection);
                return;
            }
            JobStdio stdio { message->fds[0], message->fds[1], message->fds[2] };
            auto close_stdio = [&] {
                for (int fd : message->fds)
                    close(fd);
            };
            auto reply = [&](std::string const& text) { (void)send(connection, text.data(), text.size(), MSG_NOSIGNAL); };
            auto process = parse_oci_process(std::string_view(message->payload).substr(strlen(exec_request_prefix)));
            if (!process) {
                reply("error " + process.error().message);
                close_stdio();
                close(connection);
                return;
            }
            auto lookup = [this](std::string const& path) -> std::optional<FileInfo> {
                auto info = m_sandbox.stat(path);
                return info ? std::optional<FileInfo>(*info) : std::nullopt;
            };
            auto found = resolve_guest_executable(process->args[0], process->cwd, process->env, lookup);
            if (!found) {
                reply("error " + found.error().message);
                close_stdio();
                close(connection);
                return;
            }
            auto job = start_with_stdio(m_sandbox, *process, stdio);
            if (!job) {
                reply("error " + job.error().message);
                close_stdio();
                close(connection);
                return;
            }
            {
                std::lock_guard lock(m_mutex);
                m_processes.insert(*job);
            }
            reply("started");
            std::atomic<bool> done { false };
            std::thread waiter([&, job = *job] {
                auto result = job->wait();
                std::string ending;
                if (!result)
                    ending = "signal " + std::to_string(SIGKILL); // the VM went away under it
                else if (result->status == RunStatus::Signaled || result->status == RunStatus::TimedOut)
                    ending = "signal " + std::to_string(result->signal);
                else
                    ending = "exit " + std::to_string(docker_exit_status(*result));
                done = true;
                reply(ending);
                shutdown(connection, SHUT_RDWR);
            });
            // Signals forwarded by the exec process, until the job ends or exec goes away.
            char buffer[64];
            while (true) {
                ssize_t n = recv(connection, buffer, sizeof buffer - 1, 0);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    break;
                std::string_view text(buffer, static_cast<size_t>(n));
                if (text.starts_with("signal ")) {
                    int signo = atoi(std::string(text.substr(7)).c_str());
                    if (signo >= 1 && signo <= 64)
                        (void)(*job)->signal(signo);
                }
            }
            if (!done)
                (void)(*job)->kill(); // exec died (kill -9): its process goes too, as with runc's pid
            waiter.join();
            {
                std::lock_guard lock(m_mutex);
                m_processes.erase(*job);
            }
            close_stdio();
            close(connection);
        }

        Sandbox& m_sandbox;
        std::mutex m_mutex;
        std::set<std::shared_ptr<Process>> m_processes;
    };

    // Binds the control socket by a relative name: the state root may be too long for sun_path.
    Result<int> listen_control_socket(std::string const& directory)
    {
        int socket_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (socket_fd < 0)
            return fail_errno("socket");
        int directory_fd = open(directory.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (directory_fd < 0)
            return fail_errno("cannot open " + directory);
        sockaddr_un address {};
        address.sun_family = AF_UNIX;
        std::string path = "/proc/self/fd/" + std::to_string(directory_fd) + "/" + control_socket_name;
        memcpy(address.sun_path, path.c_str(), path.size() + 1);
        int bound = bind(socket_fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
        int err = errno;
        close(directory_fd);
        if (bound < 0 || listen(socket_fd, 16) < 0)
            return fail_errno("cannot listen on " + directory + "/" + control_socket_name, bound < 0 ? err : errno);
        return socket_fd;
    }

    Result<int> open_start_fifo(std::string const& path)
    {
        int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            return fail_errno("cannot open " + path);
        return fd;
    }

} // namespace

void run_container_monitor(MonitorLaunch launch)
{
    // Single-threaded still, as unshare(CLONE_NEWNS) needs (container_mount_namespace.hpp).
    if (auto entered = enter_private_mount_namespace(); !entered)
        fail_creation(launch, entered.error().message);
    setsid();
    signal(SIGPIPE, SIG_IGN);
    sigset_t forwarded = forwarded_set();
    sigprocmask(SIG_BLOCK, &forwarded, nullptr);
    int signals = signalfd(-1, &forwarded, SFD_CLOEXEC);
    if (signals < 0)
        fail_creation(launch, "signalfd: " + std::string(strerror(errno)));

    auto directory = launch.store.directory(launch.record.id);
    auto& process = launch.config.process;

    // The terminal: a host pty whose master goes to the console socket; the guest process has
    // pipes (the agent has no pty), so the host side provides line editing, echo and ^C.
    JobStdio stdio { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
    if (process.terminal) {
        if (launch.console_socket.empty())
            fail_creation(launch, "cannot allocate tty if husk-oci will detach without setting console socket");
        int master = -1;
        int slave = -1;
        char name[64] {};
        if (openpty(&master, &slave, name, nullptr, nullptr) < 0)
            fail_creation(launch, "openpty: " + std::string(strerror(errno)));
        // As session leader the monitor takes the pty as its controlling terminal: ^C typed on it
        // becomes SIGINT here, which is forwarded to the guest.
        ioctl(slave, TIOCSCTTY, 0);
        auto sent = send_console(launch.console_socket, master, name);
        close(master);
        if (!sent)
            fail_creation(launch, sent.error().message);
        int io = fcntl(slave, F_DUPFD_CLOEXEC, 3);
        close(slave);
        stdio = { io, io, io };
        for (int fd : { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO })
            redirect_to_null(fd);
    }

    auto options = sandbox_options_for(launch.config, launch.record.rootfs);
    if (!options)
        fail_creation(launch, options.error().message);
    if (launch.nic)
        options->tap_network = tap_network_for(*launch.nic);
    auto sandbox = Sandbox::create(*options);
    if (!sandbox)
        fail_creation(launch, "cannot boot the container's VM: " + sandbox.error().message);

    auto lookup = [&](std::string const& path) -> std::optional<FileInfo> {
        auto info = sandbox->stat(path);
        return info ? std::optional<FileInfo>(*info) : std::nullopt;
    };
    auto found = resolve_guest_executable(process.args[0], process.cwd, process.env, lookup);
    if (!found)
        fail_creation(launch, "unable to start container process: " + found.error().message);
    if (!launch.config.hostname.empty()) {
        auto named = sandbox->write_file("/proc/sys/kernel/hostname", launch.config.hostname);
        if (!named)
            fail_creation(launch, "cannot set the hostname: " + named.error().message);
    }

    // podman cp on the running container joins this process's mount namespace: from now on its
    // "/" is the rootfs, with the volumes (the guest has made their mount points by now).
    auto shown = show_rootfs_at_namespace_root(launch.record.rootfs, options->mounts);
    if (!shown)
        fail_creation(launch, shown.error().message);
    for (auto const& note : *shown)
        OciLog::warning(note);

    std::string fifo_path = directory + "/" + start_fifo_name;
    if (mkfifo(fifo_path.c_str(), 0600) < 0)
        fail_creation(launch, "mkfifo " + fifo_path + ": " + strerror(errno));
    auto fifo = open_start_fifo(fifo_path);
    if (!fifo)
        fail_creation(launch, fifo.error().message);
    auto control = listen_control_socket(directory);
    if (!control)
        fail_creation(launch, control.error().message);

    launch.record.pid = getpid();
    launch.record.pid_start_time = process_start_time(getpid()).value_or(0);
    launch.record.status = ContainerStatus::Created;
    if (auto written = launch.store.write(launch.record); !written)
        fail_creation(launch, written.error().message);
    report(launch.report_fd, "ok");
    close(launch.report_fd);
    launch.report_fd = -1;
    OciLog::detach_from_stderr();

    ExecSessions sessions(*sandbox);
    std::shared_ptr<Process> main_job;
    int finished = eventfd(0, EFD_CLOEXEC);
    // Set by the waiter thread before it signals `finished`; read after that, under the mutex.
    std::mutex result_mutex;
    std::optional<RunResult> main_result;
    int fifo_fd = *fifo;

    while (true) {
        pollfd fds[] = { { signals, POLLIN, 0 }, { fifo_fd, POLLIN, 0 }, { *control, POLLIN, 0 }, { finished, POLLIN, 0 } };
        if (main_job)
            fds[1].fd = -1; // started: the fifo has served its purpose
        if (poll(fds, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            OciLog::error("poll: " + std::string(strerror(errno)));
            _exit(1);
        }
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo info {};
            if (read(signals, &info, sizeof info) == sizeof info) {
                int flags = info.ssi_code == SI_QUEUE ? info.ssi_int : 0;
                int signo = (flags & signal_flag_kill) != 0 ? SIGKILL : static_cast<int>(info.ssi_signo);
                bool all = (flags & signal_flag_all) != 0;
                if (main_job) {
                    (void)main_job->signal(signo);
                    if (all)
                        sessions.signal_all(signo);
                } else if (signo != SIGWINCH && signal_terminates(signo)) {
                    // Not started yet: the container ends on the signal as runc's waiting init does.
                    (void)sandbox->shutdown();
                    die_of_signal(signo);
                }
            }
        }
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            char byte = 0;
            ssize_t n = read(fifo_fd, &byte, 1);
            if (n == 1 && !main_job) {
                auto job = start_with_stdio(*sandbox, process, stdio);
                if (!job) {
                    OciLog::error("unable to start container process: " + job.error().message);
                    _exit(exit_status_runtime_error);
                }
                main_job = *job;
                std::thread([job = main_job, finished, &main_result, &result_mutex] {
                    auto result = job->wait();
                    {
                        std::lock_guard lock(result_mutex);
                        if (result) {
                            main_result = *result;
                        } else {
                            RunResult killed; // the VM went away under the job
                            killed.status = RunStatus::Signaled;
                            killed.signal = SIGKILL;
                            main_result = killed;
                        }
                    }
                    uint64_t one = 1;
                    (void)!write(finished, &one, sizeof one);
                }).detach();
                launch.record.status = ContainerStatus::Running;
                (void)launch.store.write(launch.record);
                close(fifo_fd);
                unlink(fifo_path.c_str());
                fifo_fd = -1;
            } else if (n == 0) {
                // A writer came and went without a byte: reopen so poll() stops reporting POLLHUP.
                close(fifo_fd);
                fifo_fd = open_start_fifo(fifo_path).value_or(-1);
            }
        }
        if (fds[2].revents & POLLIN) {
            int connection = accept4(*control, nullptr, nullptr, SOCK_CLOEXEC);
            if (connection >= 0)
                sessions.serve(connection);
        }
        if (fds[3].revents & POLLIN)
            break;
    }

    RunResult result;
    {
        std::lock_guard lock(result_mutex);
        result = *main_result;
    }
    if (result.status == RunStatus::SpawnFailed)
        OciLog::error("unable to start container process: exec: \"" + process.args[0] + "\": " + result.spawn_message);
    launch.record.status = ContainerStatus::Stopped;
    (void)launch.store.write(launch.record);
    (void)sandbox->shutdown();
    exit_like(result);
}

} // namespace husk::oci
