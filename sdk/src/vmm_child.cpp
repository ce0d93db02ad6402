// VmmChild: a vfork-style clone and exec with a parent-death signal, exec errors reported through
// a close-on-exec pipe, and exit observation through a pidfd.
#include "sdk/src/vmm_child.hpp"

#include "sdk/src/spawner.hpp"

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace husk::detail {

namespace {

    // SIGKILL takes effect at once; this only bounds the wait for a process stuck in the kernel.
    constexpr std::chrono::milliseconds adopted_exit_wait { 2000 };

    // The child's stack until it execs (it shares the parent's memory until then).
    constexpr size_t child_stack_size = 64 * 1024;

    struct ChildArguments {
        char* const* argv;
        int log_fd;
        int null_fd;
        int error_fd;
        int pass_fd;
        pid_t parent;
    };

    // Only async-signal-safe calls between clone and exec, and no writes to memory the parent
    // uses: the child runs on the parent's memory (CLONE_VM) while the parent waits.
    [[noreturn]] void exec_child(char* const* argv, int log_fd, int null_fd, int error_fd, int pass_fd, pid_t parent)
    {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) // the parent died before the death signal was armed
            _exit(127);
        // Every signal arrives blocked (see spawn). The child has its own copy of the handlers:
        // none of the host program's may run here, so every handled signal goes back to its
        // default before any is unblocked, and these four to their default even if ignored.
        for (int signo = 1; signo < NSIG; ++signo) {
            struct sigaction action { };
            if (sigaction(signo, nullptr, &action) == 0 && action.sa_handler != SIG_DFL
                && action.sa_handler != SIG_IGN)
                signal(signo, SIG_DFL);
        }
        for (int signo : { SIGPIPE, SIGINT, SIGTERM, SIGHUP })
            signal(signo, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        dup2(null_fd, STDIN_FILENO);
        dup2(log_fd, STDOUT_FILENO);
        dup2(log_fd, STDERR_FILENO);
        // Both out of the way first: either may sit at 3 or 4 already.
        int error_high = fcntl(error_fd, F_DUPFD_CLOEXEC, 10);
        int pass_high = pass_fd >= 0 ? fcntl(pass_fd, F_DUPFD, 10) : -1;
        dup2(error_high, 3);
        fcntl(3, F_SETFD, FD_CLOEXEC);
        if (pass_high >= 0)
            dup2(pass_high, passed_fd_number); // dup2 leaves close-on-exec clear: it is inherited
        syscall(SYS_close_range, pass_high >= 0 ? 5u : 4u, ~0u, 0u);
        execv(argv[0], argv);
        int error = errno;
        (void)!write(3, &error, sizeof error);
        _exit(127);
    }

    int exec_child_entry(void* raw)
    {
        auto const& arguments = *static_cast<ChildArguments const*>(raw);
        exec_child(arguments.argv, arguments.log_fd, arguments.null_fd, arguments.error_fd, arguments.pass_fd,
            arguments.parent);
    }

} // namespace

Result<VmmChild> VmmChild::spawn(std::vector<std::string> const& argv, std::string const& log_path, int pass_fd)
{
    if (argv.empty() || argv[0].find('/') == std::string::npos)
        return fail(ErrorKind::BadConfig, "husk-vmm must be given as a path");
    auto log = Fd::open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (!log)
        return fail(ErrorKind::VmmStartFailed, log.error().message);
    auto null = Fd::open("/dev/null", O_RDWR);
    if (!null)
        return fail(ErrorKind::VmmStartFailed, null.error().message);
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) < 0)
        return fail_errno("pipe2");
    Fd error_read(pipe_fds[0]);
    Fd error_write(pipe_fds[1]);

    std::vector<char*> raw_argv;
    for (auto const& argument : argv)
        raw_argv.push_back(const_cast<char*>(argument.c_str()));
    raw_argv.push_back(nullptr);

    pid_t pid = -1;
    int fork_errno = 0;
    ChildArguments arguments { raw_argv.data(), log->get(), null->get(), error_write.get(), pass_fd, getpid() };
    std::vector<uint8_t> child_stack(child_stack_size);
    run_on_spawner_thread([&] {
        // vfork-style: the child borrows our memory until its exec instead of a copy of the
        // page tables that exec throws away (fork's cost grows with the host program's size).
        // Every signal is blocked across the clone so no handler of ours runs in the child
        // before it has reset them.
        sigset_t all;
        sigset_t previous;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &previous);
        auto* stack_top = child_stack.data() + child_stack.size(); // the stack grows down; 16-aligned
        pid = ::clone(exec_child_entry, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, &arguments);
        fork_errno = errno;
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    });
    if (pid < 0)
        return fail(ErrorKind::VmmStartFailed, Error::from_errno("clone", fork_errno).message);
    error_write.reset();

    int exec_errno = 0;
    ssize_t got;
    do
        got = read(error_read.get(), &exec_errno, sizeof exec_errno);
    while (got < 0 && errno == EINTR);
    if (got == sizeof exec_errno) {
        waitpid(pid, nullptr, 0);
        return fail(ErrorKind::VmmStartFailed, "cannot execute " + argv[0] + ": " + std::strerror(exec_errno));
    }
    Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd.is_valid()) {
        int error = errno;
        ::kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        return fail(ErrorKind::VmmStartFailed, Error::from_errno("pidfd_open", error).message);
    }
    return VmmChild(pid, std::move(pidfd), true);
}

Result<VmmChild> VmmChild::adopt(pid_t pid)
{
    if (pid <= 0)
        return fail(ErrorKind::BadConfig, "not a process id: " + std::to_string(pid));
    Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd.is_valid())
        return fail(ErrorKind::VmDied, Error::from_errno("husk-vmm (pid " + std::to_string(pid) + ")").message);
    return VmmChild(pid, std::move(pidfd), false);
}

VmmChild::VmmChild(VmmChild&& other) noexcept
    : m_pid(other.m_pid)
    , m_pidfd(std::move(other.m_pidfd))
    , m_is_child(other.m_is_child)
{
    other.m_pid = -1;
}

VmmChild::~VmmChild() { reap(); }

std::optional<ChildExit> VmmChild::peek_exit() const
{
    if (m_pid <= 0)
        return std::nullopt;
    if (!m_is_child)
        return wait_exit(std::chrono::milliseconds(0)) ? std::optional(ChildExit { false, 0, false }) : std::nullopt;
    siginfo_t info {};
    if (waitid(P_PID, static_cast<id_t>(m_pid), &info, WEXITED | WNOHANG | WNOWAIT) < 0 || info.si_pid == 0)
        return std::nullopt;
    return ChildExit { info.si_code != CLD_EXITED, info.si_status };
}

bool VmmChild::wait_exit(std::chrono::milliseconds timeout) const
{
    if (m_pid <= 0)
        return true;
    pollfd fd { m_pidfd.get(), POLLIN, 0 };
    int ready;
    do
        ready = poll(&fd, 1, static_cast<int>(timeout.count()));
    while (ready < 0 && errno == EINTR);
    return ready > 0;
}

void VmmChild::kill() const
{
    if (m_pid > 0)
        syscall(SYS_pidfd_send_signal, m_pidfd.get(), SIGKILL, nullptr, 0);
}

void VmmChild::terminate() const
{
    if (m_pid > 0)
        syscall(SYS_pidfd_send_signal, m_pidfd.get(), SIGTERM, nullptr, 0);
}

void VmmChild::reap()
{
    if (m_pid <= 0)
        return;
    if (!peek_exit())
        kill();
    if (m_is_child) {
        while (waitpid(m_pid, nullptr, 0) < 0 && errno == EINTR) { }
    } else {
        (void)wait_exit(adopted_exit_wait);
    }
    m_pid = -1;
    m_pidfd.reset();
}

void VmmChild::release(std::function<void()> after_exit)
{
    if (m_pid <= 0)
        return;
    std::thread([pid = m_pid, is_child = m_is_child, pidfd = std::move(m_pidfd), after_exit = std::move(after_exit)] {
        pollfd fd { pidfd.get(), POLLIN, 0 };
        while (poll(&fd, 1, -1) < 0 && errno == EINTR) { }
        if (is_child)
            while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) { }
        if (after_exit)
            after_exit();
    }).detach();
    m_pid = -1;
}

std::string describe_vmm_exit(ChildExit exit)
{
    if (!exit.known)
        return "has exited";
    if (exit.signaled) {
        std::string text = "was killed by signal " + std::to_string(exit.value);
        if (exit.value == SIGKILL)
            text += " (SIGKILL: kill -9 or the out-of-memory killer)";
        else if (char const* name = sigabbrev_np(exit.value))
            text += std::string(" (SIG") + name + ")";
        return text;
    }
    static constexpr char const* meanings[] = { "clean shutdown", "VMM error", "usage error",
        "the guest crashed or halted", "its time limit expired", "stopped by a host signal" };
    std::string text = "exited with status " + std::to_string(exit.value);
    if (exit.value >= 0 && exit.value < static_cast<int>(std::size(meanings)))
        text += std::string(" (") + meanings[exit.value] + ")";
    return text;
}

std::vector<std::string> last_lines(std::string const& path, size_t count)
{
    constexpr off_t max_tail = 64 * 1024;
    std::vector<std::string> lines;
    auto fd = Fd::open(path, O_RDONLY);
    if (!fd || count == 0)
        return lines;
    off_t size = lseek(fd->get(), 0, SEEK_END);
    off_t start = size > max_tail ? size - max_tail : 0;
    std::string text(static_cast<size_t>(size - start), '\0');
    ssize_t got = pread(fd->get(), text.data(), text.size(), start);
    if (got <= 0)
        return lines;
    text.resize(static_cast<size_t>(got));
    size_t position = 0;
    while (position < text.size()) {
        size_t end = text.find('\n', position);
        if (end == std::string::npos)
            end = text.size();
        if (end > position)
            lines.push_back(text.substr(position, end - position));
        position = end + 1;
    }
    if (lines.size() > count)
        lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(count));
    return lines;
}

} // namespace husk::detail
