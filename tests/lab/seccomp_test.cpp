// Lab: husk-vmm runs with every thread seccomp-filtered. A running VMM shows the filter and
// no_new_privs on each thread, whole VM lifecycles cause no violation, and a forbidden syscall
// on any thread kind (the test-only hook) kills the VMM with SIGSYS.
#include "runtime/base/fd.hpp"
#include "tests/lab/vmm_process.hpp"

#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace husk;
using namespace husk::lab;
using namespace std::chrono_literals;

namespace {
std::string describe(VmmRun const& run)
{
    return "exit " + std::to_string(run.exit_status) + " signal " + std::to_string(run.term_signal)
        + "\nreport: " + run.report + "\nstdout:\n" + run.out + "\nstderr:\n" + run.err;
}

// The value of one "Key:\tvalue" line of a /proc status file, or "" when absent.
std::string status_field(std::string const& path, std::string const& key)
{
    auto text = read_file(path, 1 << 16);
    if (!text)
        return "";
    auto at = text->find("\n" + key + ":");
    if (at == std::string::npos)
        return "";
    at = text->find_first_not_of(" \t", at + key.size() + 2);
    return text->substr(at, text->find('\n', at) - at);
}

struct ThreadStatus {
    std::string name;
    std::string seccomp;
    std::string no_new_privs;
};

std::vector<ThreadStatus> thread_statuses(int pid)
{
    std::vector<ThreadStatus> threads;
    std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    DIR* directory = ::opendir(tasks.c_str());
    if (directory == nullptr)
        return threads;
    while (auto* entry = ::readdir(directory)) {
        if (entry->d_name[0] == '.')
            continue;
        std::string status = tasks + "/" + entry->d_name + "/status";
        threads.push_back(
            { status_field(status, "Name"), status_field(status, "Seccomp"), status_field(status, "NoNewPrivs") });
    }
    ::closedir(directory);
    return threads;
}

// husk-vmm logs this once the guest's init runs: every thread has installed its filter by then.
constexpr char const* guest_running_marker = "guest init started";

// Sets an environment variable for the VMMs started while it lives.
class ScopedEnv {
public:
    ScopedEnv(char const* name, std::string const& value)
        : m_name(name)
    {
        ::setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() { ::unsetenv(m_name); }

private:
    char const* m_name;
};
} // namespace

TEST(LabSeccomp, RunningVmm_EveryThreadFilteredWithNoNewPrivs)
{
    std::string process_seccomp, process_nnp;
    std::vector<ThreadStatus> threads;
    RunningProbe probe { guest_running_marker, [&](int pid) {
                            std::string status = "/proc/" + std::to_string(pid) + "/status";
                            process_seccomp = status_field(status, "Seccomp");
                            process_nnp = status_field(status, "NoNewPrivs");
                            threads = thread_statuses(pid);
                        } };

    auto run = run_vmm({ "--vcpus", "2", "--", "sleep", "3" }, 120s, true, &probe);

    ASSERT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_EQ(process_seccomp, "2") << describe(run);
    EXPECT_EQ(process_nnp, "1") << describe(run);
    ASSERT_GE(threads.size(), 4u) << "main, event and two vCPU threads expected\n" << describe(run);
    for (auto const& thread : threads) {
        EXPECT_EQ(thread.seccomp, "2") << thread.name;
        EXPECT_EQ(thread.no_new_privs, "1") << thread.name;
    }
}

TEST(LabSeccomp, NoSeccompOption_LeavesThreadsUnfiltered)
{
    std::string process_seccomp;
    RunningProbe probe { guest_running_marker,
        [&](int pid) { process_seccomp = status_field("/proc/" + std::to_string(pid) + "/status", "Seccomp"); } };

    auto run = run_vmm({ "--no-seccomp", "--", "sleep", "2" }, 120s, true, &probe);

    ASSERT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_EQ(process_seccomp, "0") << describe(run);
}

TEST(LabSeccomp, BootJobShutdownOnTwoVcpusWithDebug_NoViolation)
{
    // --debug adds register dumps and debug logging on every thread; output goes through the
    // serial device on the vCPU threads.
    auto run = run_vmm({ "--vcpus", "2", "--debug", "--serial", "stdout", "--", "sh", "-c",
        "echo filtered-ok; cat /proc/cpuinfo >/dev/null" });

    EXPECT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_EQ(run.term_signal, 0) << describe(run);
    EXPECT_EQ(json_field(run.report, "stop_reason"), "guest-shutdown") << describe(run);
    EXPECT_NE(run.out.find("filtered-ok"), std::string::npos) << describe(run);
}

TEST(LabSeccomp, HostTimeoutStop_NoViolation)
{
    // The timeout path kicks and joins the vCPU threads from the filtered main thread.
    auto run = run_vmm({ "--timeout", "3s", "--", "sh", "-c", "while :; do :; done" }, 90s);

    EXPECT_EQ(run.term_signal, 0) << describe(run);
    EXPECT_EQ(json_field(run.report, "stop_reason"), "timeout") << describe(run);
}

TEST(LabSeccomp, HostSigterm_StopsWithReportNoViolation)
{
    // SIGTERM arrives through the signalfd, read by the filtered main thread.
    RunningProbe probe { guest_running_marker, [](int pid) { ::kill(pid, SIGTERM); } };

    auto run = run_vmm({ "--", "sleep", "30" }, 90s, true, &probe);

    EXPECT_EQ(run.term_signal, 0) << describe(run);
    EXPECT_EQ(json_field(run.report, "stop_reason"), "host-signal") << describe(run);
}

TEST(LabSeccomp, AgentJobsOverVsockThenShutdown_NoViolation)
{
    // The job protocol path: host streams through the event thread's vsock backend, two jobs,
    // then a shutdown request, and the tear-down of the loop and socket by the main thread.
    std::string socket_path = "/tmp/husk-lab-seccomp-" + std::to_string(::getpid()) + ".sock";
    std::string probe = HUSK_AGENT_PROBE_PATH;
    int first_job = -1, second_job = -1, shutdown = -1;
    RunningProbe running { guest_running_marker,
        [&](int) {
            for (int attempt = 0; attempt < 60 && first_job != 0; ++attempt) {
                first_job = std::system(
                    (probe + " --timeout-ms 2000 " + socket_path + " -- uname -r >/dev/null 2>&1").c_str());
                if (first_job != 0)
                    ::sleep(1);
            }
            second_job = std::system((probe + " " + socket_path + " -- sh -c 'exit 3' >/dev/null 2>&1").c_str());
            shutdown = std::system((probe + " --shutdown " + socket_path + " -- true >/dev/null 2>&1").c_str());
        } };

    auto run = run_vmm({ "--vsock", socket_path, "--timeout", "120s" }, 180s, true, &running);

    EXPECT_EQ(first_job, 0) << describe(run);
    EXPECT_EQ(WEXITSTATUS(second_job), 3) << describe(run);
    EXPECT_EQ(shutdown, 0) << describe(run);
    EXPECT_EQ(run.term_signal, 0) << describe(run);
    EXPECT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_EQ(json_field(run.report, "stop_reason"), "guest-shutdown") << describe(run);
}

class LabSeccompHook : public ::testing::TestWithParam<char const*> { };

TEST_P(LabSeccompHook, ForbiddenSyscallOnThreadKind_KillsVmmWithSigsys)
{
#ifndef HUSK_TEST_HOOKS
    GTEST_SKIP() << "husk-vmm was built without HUSK_TEST_HOOKS";
#endif
    ScopedEnv hook("HUSK_TEST_FORBIDDEN_SYSCALL", GetParam());

    auto run = run_vmm({ "--", "true" }, 90s);

    EXPECT_EQ(run.term_signal, SIGSYS) << describe(run);
    EXPECT_NE(run.err.find("test hook: the " + std::string(GetParam()) + " thread"), std::string::npos)
        << describe(run);
}

INSTANTIATE_TEST_SUITE_P(Kinds, LabSeccompHook, ::testing::Values("main", "event", "vcpu"),
    [](auto const& info) { return std::string(info.param); });
