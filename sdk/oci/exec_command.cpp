// `exec`: hands the process and this process's stdio (or a new pty) to the container's monitor,
// which runs it in the VM; this process (or, with --detach, a child named by the pid file) stays
// as the exec'd process's stand-in: it forwards signals and exits as the guest process did.
#include "sdk/oci/container_monitor.hpp"
#include "sdk/oci/exec_protocol.hpp"
#include "sdk/oci/exit_like.hpp"
#include "sdk/oci/fd_passing.hpp"
#include "sdk/oci/oci_commands.hpp"
#include "sdk/oci/oci_log.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <pty.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace husk::oci {

namespace {

    constexpr int exec_forwarded_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGALRM, SIGCONT };

    Result<std::string> process_json(ExecArguments const& arguments)
    {
        if (!arguments.process_file.empty())
            return read_small_file(arguments.process_file);
        if (arguments.command.empty())
            return fail(ErrorKind::BadConfig, "exec needs --process FILE or a command");
        nlohmann::json process;
        process["args"] = arguments.command;
        process["cwd"] = arguments.cwd.empty() ? "/" : arguments.cwd;
        process["env"] = arguments.env.empty()
            ? std::vector<std::string> { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" }
            : arguments.env;
        process["terminal"] = arguments.tty;
        return process.dump();
    }

    // Waits for the monitor's "exit N" / "signal N", forwarding signals meanwhile, and ends as
    // the guest process did.
    [[noreturn]] void await_end(int connection)
    {
        sigset_t set;
        sigemptyset(&set);
        for (int signo : exec_forwarded_signals)
            sigaddset(&set, signo);
        sigprocmask(SIG_BLOCK, &set, nullptr);
        int signals = signalfd(-1, &set, SFD_CLOEXEC);
        while (true) {
            pollfd fds[] = { { connection, POLLIN, 0 }, { signals, POLLIN, 0 } };
            if (poll(fds, 2, -1) < 0) {
                if (errno == EINTR)
                    continue;
                _exit(125);
            }
            if (fds[1].revents & POLLIN) {
                signalfd_siginfo info {};
                if (read(signals, &info, sizeof info) == sizeof info) {
                    auto text = "signal " + std::to_string(info.ssi_signo);
                    (void)send(connection, text.data(), text.size(), MSG_NOSIGNAL);
                }
            }
            if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                char buffer[64];
                ssize_t n = recv(connection, buffer, sizeof buffer - 1, 0);
                if (n <= 0) {
                    // The monitor went away with the VM (container killed): so did the process.
                    die_of_signal(SIGKILL);
                }
                std::string text(buffer, static_cast<size_t>(n));
                if (text.starts_with("exit "))
                    _exit(atoi(text.c_str() + 5));
                if (text.starts_with("signal "))
                    die_of_signal(atoi(text.c_str() + 7));
            }
        }
    }

} // namespace

Result<int> exec_in_container(GlobalOptions const& globals, ExecArguments const& arguments)
{
    ContainerStore store(globals.root);
    auto record = TRY(store.read(arguments.id));
    auto status = ContainerStore::live_status(record);
    if (status == ContainerStatus::Stopped)
        return fail(ErrorKind::BadConfig, "cannot exec in a stopped container");
    auto text = TRY(process_json(arguments));
    auto process = TRY_CONTEXT(parse_oci_process(text), arguments.process_file.empty() ? "exec" : arguments.process_file);
    bool terminal = process.terminal || arguments.tty;
    if (terminal && arguments.console_socket.empty() && arguments.detach)
        return fail(ErrorKind::BadConfig, "cannot allocate tty if husk-oci will detach without setting console socket");

    int stdio[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
    int slave = -1;
    if (terminal && !arguments.console_socket.empty()) {
        int master = -1;
        char name[64] {};
        if (openpty(&master, &slave, name, nullptr, nullptr) < 0)
            return fail_errno("openpty");
        auto sent = send_console(arguments.console_socket, master, name);
        close(master);
        if (!sent) {
            close(slave);
            return unexpected(sent.error());
        }
        stdio[0] = stdio[1] = stdio[2] = slave;
    }

    int connection = TRY(connect_unix(store.directory(arguments.id) + "/" + control_socket_name, SOCK_SEQPACKET));
    auto sent = send_with_fds(connection, exec_request_prefix + text, stdio);
    if (slave >= 0)
        close(slave);
    if (!sent) {
        close(connection);
        return unexpected(sent.error());
    }
    char reply[4096];
    ssize_t n = recv(connection, reply, sizeof reply, 0);
    if (n <= 0) {
        close(connection);
        return fail("the container's monitor did not answer the exec request");
    }
    std::string answer(reply, static_cast<size_t>(n));
    if (answer.starts_with("error ")) {
        close(connection);
        return fail(ErrorKind::BadConfig, "unable to start container process: " + answer.substr(6));
    }
    if (answer != "started") {
        close(connection);
        return fail("unexpected answer from the container's monitor: " + answer);
    }

    if (arguments.detach) {
        pid_t child = fork();
        if (child < 0)
            return fail_errno("fork");
        if (child == 0) {
            // The stand-in keeps none of exec's stdio: callers wait for EOF on it.
            int null = open("/dev/null", O_RDWR);
            for (int fd : { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO })
                dup2(null, fd);
            OciLog::detach_from_stderr();
            setsid();
            await_end(connection);
        }
        close(connection);
        if (!arguments.pid_file.empty())
            TRY(write_file_atomically(arguments.pid_file, std::to_string(child), 0644));
        return 0;
    }
    if (!arguments.pid_file.empty())
        TRY(write_file_atomically(arguments.pid_file, std::to_string(getpid()), 0644));
    await_end(connection);
}

} // namespace husk::oci
