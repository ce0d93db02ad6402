// Child-process plumbing for lab tests.
#include "tests/lab/vmm_process.hpp"

#include "runtime/base/fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace husk::lab {

namespace {
    using Clock = std::chrono::steady_clock;

    // Reaps `pid` if it is gone before `deadline`. A blocking wait4 would tie the caller to a
    // process stuck in the kernel (a killed VMM whose exit waits for I/O that never ends).
    bool reap_before(pid_t pid, Clock::time_point deadline, int& status, rusage& usage)
    {
        for (;;) {
            pid_t got = wait4(pid, &status, WNOHANG, &usage);
            if (got == pid || (got < 0 && errno == ECHILD))
                return true;
            if (Clock::now() >= deadline)
                return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }

} // namespace

std::string describe_process_threads(int pid)
{
    std::string text;
    std::error_code error;
    auto tasks = "/proc/" + std::to_string(pid) + "/task";
    for (auto const& task : std::filesystem::directory_iterator(tasks, error)) {
        auto path = task.path().string();
        auto field = [&](char const* name) {
            auto contents = read_file(path + "/" + name, 16384);
            return contents ? *contents : std::string("?\n");
        };
        auto status = field("status");
        auto state = status.find("State:");
        text += "thread " + task.path().filename().string() + " " + field("comm")
            + (state == std::string::npos ? "" : status.substr(state, status.find('\n', state) - state + 1)) + "wchan "
            + field("wchan") + "\n" + field("stack");
    }
    return text.empty() ? "no /proc entry for pid " + std::to_string(pid) : text;
}

std::string assets_dir()
{
    char const* override_dir = std::getenv("HUSK_ASSETS");
    return override_dir ? override_dir : HUSK_ASSETS_DIR;
}
std::string guest_kernel() { return assets_dir() + "/vmlinux"; }
std::string guest_initramfs() { return assets_dir() + "/initramfs.cpio"; }

VmmRun run_vmm(std::vector<std::string> const& arguments, std::chrono::seconds limit, bool with_defaults,
    RunningProbe const* probe, std::optional<std::string> vmm)
{
    VmmRun run;
    char report_template[] = "/tmp/husk-lab-report.XXXXXX";
    int report_fd = mkstemp(report_template);
    if (report_fd >= 0)
        close(report_fd);
    std::string report_path = report_template;

    std::vector<std::string> argv { vmm.value_or(HUSK_VMM_PATH) };
    if (with_defaults) {
        argv.insert(argv.end(), { "--kernel", guest_kernel(), "--initrd", guest_initramfs() });
    }
    argv.insert(argv.end(), { "--report", report_path });
    // Job arguments start at "--": VMM options from the test go before it.
    auto separator = std::find(arguments.begin(), arguments.end(), std::string("--"));
    argv.insert(argv.end(), arguments.begin(), separator);
    argv.insert(argv.end(), separator, arguments.end());

    std::vector<char*> pointers;
    for (auto& argument : argv)
        pointers.push_back(argument.data());
    pointers.push_back(nullptr);

    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
        return run;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    auto start = Clock::now();
    pid_t pid = -1;
    int spawned = posix_spawn(&pid, pointers[0], &actions, nullptr, pointers.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (spawned != 0) {
        run.err = "cannot start " + argv[0];
        close(out_pipe[0]);
        close(err_pipe[0]);
        return run;
    }

    pollfd fds[2] = { { out_pipe[0], POLLIN, 0 }, { err_pipe[0], POLLIN, 0 } };
    std::string* sinks[2] = { &run.out, &run.err };
    int open_streams = 2;
    auto deadline = start + limit;
    while (open_streams > 0 && Clock::now() < deadline) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        if (poll(fds, 2, static_cast<int>(std::max<int64_t>(left.count(), 1))) < 0) {
            if (errno == EINTR)
                continue;
            run.err += "\nvmm_process: poll failed: " + std::string(strerror(errno));
            break; // not a reason to wait without a limit: the deadline below still holds
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buffer[65536];
            ssize_t got = read(fds[i].fd, buffer, sizeof buffer);
            if (got > 0) {
                sinks[i]->append(buffer, static_cast<size_t>(got));
                if (probe && run.err.find(probe->marker) != std::string::npos) {
                    probe->inspect(pid);
                    probe = nullptr;
                }
            } else if (got == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_streams;
            }
        }
    }
    for (auto& pfd : fds)
        if (pfd.fd >= 0)
            close(pfd.fd);
    // Both streams closed (or polling failed): the VMM is on its way out, yet its exit may hang
    // too. The same deadline holds for it; after it a kill, and a bounded wait for that.
    int status = 0;
    rusage usage {};
    bool reaped = reap_before(pid, deadline, status, usage);
    if (!reaped) {
        kill(pid, SIGKILL);
        run.killed_by_test = true;
        reaped = reap_before(pid, Clock::now() + kill_grace, status, usage);
    }
    if (!reaped) {
        run.unkillable = true;
        run.stuck = describe_process_threads(pid);
        run.wall = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        unlink(report_path.c_str());
        return run;
    }
    run.max_rss_kib = usage.ru_maxrss;
    run.wall = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    run.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    auto report = read_file(report_path, 1 << 20);
    if (report)
        run.report = *report;
    unlink(report_path.c_str());
    return run;
}

std::optional<std::string> json_field(std::string const& json, std::string const& key)
{
    auto at = json.find("\"" + key + "\"");
    if (at == std::string::npos)
        return std::nullopt;
    at = json.find(':', at);
    if (at == std::string::npos)
        return std::nullopt;
    ++at;
    while (at < json.size() && json[at] == ' ')
        ++at;
    if (at < json.size() && json[at] == '"') {
        auto end = json.find('"', at + 1);
        return json.substr(at + 1, end - at - 1);
    }
    auto end = json.find_first_of(",}", at);
    return json.substr(at, end - at);
}

std::optional<long long> json_number(std::string const& json, std::string const& key)
{
    auto text = json_field(json, key);
    if (!text || text->empty() || text->find_first_not_of("-0123456789") != std::string::npos)
        return std::nullopt;
    return std::stoll(*text);
}

} // namespace husk::lab
