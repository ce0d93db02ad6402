// fork+execve of host tools with captured stderr.
#include "runtime/net/host_command.hpp"

#include "runtime/base/fd.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace husk {

namespace {
    constexpr size_t stderr_limit = 2048;

    std::vector<char*> c_arguments(std::vector<std::string> const& argv)
    {
        std::vector<char*> pointers;
        for (auto const& argument : argv)
            pointers.push_back(const_cast<char*>(argument.c_str()));
        pointers.push_back(nullptr);
        return pointers;
    }

    std::string shown(std::vector<std::string> const& argv)
    {
        std::string text;
        for (auto const& argument : argv)
            text += (text.empty() ? "" : " ") + argument;
        return text;
    }

    char* const clean_environment[] = { const_cast<char*>("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nullptr };
} // namespace

Result<std::string> find_host_tool(std::string const& name, std::string const& package)
{
    for (char const* directory : { "/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/" }) {
        std::string path = directory + name;
        if (::access(path.c_str(), X_OK) == 0)
            return path;
    }
    return fail(name + " is not installed (Debian package " + package + ")");
}

Result<void> run_host_command(std::vector<std::string> const& argv, std::string const& input)
{
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
        return fail_errno("pipe for " + argv[0]);
    Fd read_end(pipe_fds[0]);
    Fd write_end(pipe_fds[1]);
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
        return fail_errno("pipe for " + argv[0]);
    Fd input_read(pipe_fds[0]);
    Fd input_write(pipe_fds[1]);
    auto arguments = c_arguments(argv);
    pid_t child = ::fork();
    if (child < 0)
        return fail_errno("fork for " + argv[0]);
    if (child == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        ::dup2(input_read.get(), STDIN_FILENO);
        ::dup2(null, STDOUT_FILENO);
        ::dup2(write_end.get(), STDERR_FILENO);
        ::execve(arguments[0], arguments.data(), clean_environment);
        ::_exit(127);
    }
    write_end.reset();
    input_read.reset();
    // A pipe holds 64 KiB, far more than any input here: no need to read stderr meanwhile.
    (void)write_all(input_write.get(), input.data(), input.size());
    input_write.reset();
    std::string errors;
    char buffer[512];
    for (;;) {
        ssize_t got = ::read(read_end.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (errors.size() < stderr_limit)
            errors.append(buffer, static_cast<size_t>(got));
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0) {
        if (errno != EINTR)
            return fail_errno("waitpid for " + argv[0]);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return {};
    while (!errors.empty() && (errors.back() == '\n' || errors.back() == ' '))
        errors.pop_back();
    return fail("\"" + shown(argv) + "\" failed"
        + (WIFEXITED(status) ? " (exit " + std::to_string(WEXITSTATUS(status)) + ")" : " (killed)")
        + (errors.empty() ? "" : ": " + errors));
}

Result<StartedProcess> start_in_network_namespace(std::string const& netns_path, std::vector<std::string> const& argv)
{
    auto netns = TRY(Fd::open(netns_path, O_RDONLY | O_CLOEXEC));
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
        return fail_errno("pipe for " + argv[0]);
    Fd read_end(pipe_fds[0]);
    Fd write_end(pipe_fds[1]);
    auto arguments = c_arguments(argv);
    pid_t child = ::fork();
    if (child < 0)
        return fail_errno("fork for " + argv[0]);
    if (child == 0) {
        if (::setns(netns.get(), CLONE_NEWNET) != 0)
            ::_exit(126);
        int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        ::dup2(null, STDIN_FILENO);
        ::dup2(null, STDOUT_FILENO);
        ::dup2(write_end.get(), STDERR_FILENO);
        ::execve(arguments[0], arguments.data(), clean_environment);
        ::_exit(127);
    }
    (void)::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
    return StartedProcess { child, std::move(read_end) };
}

} // namespace husk
