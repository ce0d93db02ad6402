// Lab: husk-vmm --jail. The jailed VMM runs as the jail uid/gid with no groups, as PID 1 of its
// own PID namespace, in an empty root, with only loopback networking, in its cgroup, with its
// rlimits and an empty environment; the guest still boots and its job runs; the jail directory
// and cgroup are gone afterwards, also when the VMM was killed with SIGKILL; a seccomp violation
// in the jailed VMM still ends it (and the launcher) with SIGSYS; a guest that needs more memory
// than its cgroup allows kills only its own VMM while a neighbour VM runs on.
#include "runtime/base/fd.hpp"
#include "tests/lab/directory_entries.hpp"
#include "tests/lab/vmm_process.hpp"

#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <optional>
#include <poll.h>
#include <set>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>

using namespace husk;
using namespace husk::lab;
using namespace std::chrono_literals;

namespace {
constexpr char const* jail_parent = "/tmp/husk-lab-jails";
constexpr char const* jail_uid = "40200";
constexpr char const* guest_running_marker = "guest init started";

std::string describe(VmmRun const& run)
{
    return "exit " + std::to_string(run.exit_status) + " signal " + std::to_string(run.term_signal)
        + "\nreport: " + run.report + "\nstdout:\n" + run.out + "\nstderr:\n" + run.err;
}

std::string field(std::string const& path, std::string const& key)
{
    auto text = read_file(path, 1 << 16).value_or("");
    auto at = text.find("\n" + key + ":");
    if (at == std::string::npos)
        return "";
    at = text.find_first_not_of(" \t", at + key.size() + 2);
    return text.substr(at, text.find('\n', at) - at);
}

// The launcher's only child: the jailed VMM.
int vmm_of(int launcher)
{
    DIR* proc = ::opendir("/proc");
    int found = -1;
    while (auto* entry = proc ? ::readdir(proc) : nullptr) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
            continue;
        std::string status = std::string("/proc/") + entry->d_name + "/status";
        if (field(status, "PPid") == std::to_string(launcher))
            found = std::atoi(entry->d_name);
    }
    if (proc)
        ::closedir(proc);
    return found;
}

std::vector<std::string> interfaces(int pid)
{
    std::vector<std::string> names;
    std::istringstream lines(read_file("/proc/" + std::to_string(pid) + "/net/dev", 1 << 16).value_or(""));
    std::string line;
    for (int number = 0; std::getline(lines, line); ++number) {
        if (number < 2)
            continue; // headers
        auto colon = line.find(':');
        auto start = line.find_first_not_of(' ');
        if (colon != std::string::npos)
            names.push_back(line.substr(start, colon - start));
    }
    return names;
}

std::vector<std::string> jail_arguments(std::string const& id)
{
    std::filesystem::create_directories(jail_parent);
    return { "--jail", jail_parent, "--jail-id", id, "--jail-uid", jail_uid, "--jail-gid", jail_uid };
}

std::vector<std::string> operator+(std::vector<std::string> left, std::vector<std::string> const& right)
{
    left.insert(left.end(), right.begin(), right.end());
    return left;
}

// A listening AF_UNIX stream socket at `path`; invalid on failure.
Fd listen_unix(std::string const& path)
{
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un address {};
    address.sun_family = AF_UNIX;
    if (!fd.is_valid() || path.size() >= sizeof address.sun_path)
        return Fd();
    path.copy(address.sun_path, path.size());
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0 || ::listen(fd.get(), 4) < 0)
        return Fd();
    return fd;
}

bool cgroup_exists(std::string const& id)
{
    return std::filesystem::exists("/sys/fs/cgroup/husk/" + id)
        || std::filesystem::exists("/sys/fs/cgroup/memory/husk/" + id);
}

struct Seen {
    int vmm { -1 };
    std::string uid, gid, groups, nspid, seccomp, no_new_privs, cgroup, environment;
    std::optional<std::set<std::string>> root; // nothing: could not be listed
    std::vector<std::string> network;
};
} // namespace

TEST(LabJail, JailedVmm_RunsConfinedAndLeavesNothingBehind)
{
    Seen seen;
    RunningProbe probe { guest_running_marker, [&](int launcher) {
                            seen.vmm = vmm_of(launcher);
                            std::string proc = "/proc/" + std::to_string(seen.vmm);
                            seen.uid = field(proc + "/status", "Uid");
                            seen.gid = field(proc + "/status", "Gid");
                            seen.groups = field(proc + "/status", "Groups");
                            seen.nspid = field(proc + "/status", "NSpid");
                            seen.seccomp = field(proc + "/status", "Seccomp");
                            seen.no_new_privs = field(proc + "/status", "NoNewPrivs");
                            seen.cgroup = read_file(proc + "/cgroup", 4096).value_or("");
                            seen.environment = read_file(proc + "/environ", 4096).value_or("?");
                            seen.root = husk_lab::directory_entries(proc + "/root/");
                            seen.network = interfaces(seen.vmm);
                        } };

    auto run
        = run_vmm(jail_arguments("lab-confined") + std::vector<std::string> { "--", "sh", "-c", "sleep 3; exit 7" },
            120s, true, &probe);

    ASSERT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_EQ(json_number(run.report, "exit_code"), 7) << describe(run);
    ASSERT_GT(seen.vmm, 0) << describe(run);
    EXPECT_EQ(seen.uid, "40200\t40200\t40200\t40200");
    EXPECT_EQ(seen.gid, "40200\t40200\t40200\t40200");
    EXPECT_EQ(seen.groups, "");
    EXPECT_EQ(seen.nspid, std::to_string(seen.vmm) + "\t1"); // PID 1 of its own namespace
    EXPECT_EQ(seen.seccomp, "2");
    EXPECT_EQ(seen.no_new_privs, "1");
    EXPECT_NE(seen.cgroup.find("husk/lab-confined"), std::string::npos) << seen.cgroup;
    EXPECT_EQ(seen.environment.find_first_not_of('\0'), std::string::npos) << "environment visible in the jail";
    ASSERT_TRUE(seen.root) << "the jail root could not be listed through /proc";
    EXPECT_TRUE(seen.root->empty()) << "the jail root holds " << seen.root->size() << " entries";
    for (auto const& name : seen.network)
        EXPECT_TRUE(name == "lo" || name == "sit0") << "host interface visible in the jail: " << name;
    EXPECT_FALSE(std::filesystem::exists(std::string(jail_parent) + "/lab-confined"));
    EXPECT_FALSE(cgroup_exists("lab-confined"));
}

TEST(LabJail, JailedVmmKilledWithSigkill_LauncherCleansUp)
{
    RunningProbe probe { guest_running_marker, [&](int launcher) { ::kill(vmm_of(launcher), SIGKILL); } };

    auto run
        = run_vmm(jail_arguments("lab-killed") + std::vector<std::string> { "--", "sleep", "60" }, 120s, true, &probe);

    EXPECT_EQ(run.term_signal, SIGKILL) << describe(run);
    EXPECT_FALSE(std::filesystem::exists(std::string(jail_parent) + "/lab-killed"));
    EXPECT_FALSE(cgroup_exists("lab-killed"));
}

TEST(LabJail, SigtermToLauncher_ReachesTheVmm)
{
    RunningProbe probe { guest_running_marker, [&](int launcher) { ::kill(launcher, SIGTERM); } };

    auto run
        = run_vmm(jail_arguments("lab-sigterm") + std::vector<std::string> { "--", "sleep", "60" }, 120s, true, &probe);

    EXPECT_EQ(run.exit_status, 5) << describe(run);
    EXPECT_EQ(json_field(run.report, "stop_reason"), "host-signal") << describe(run);
    EXPECT_FALSE(std::filesystem::exists(std::string(jail_parent) + "/lab-sigterm"));
}

TEST(LabJail, ForbiddenSyscallInJailedVmm_EndsWithSigsys)
{
#ifndef HUSK_TEST_HOOKS
    GTEST_SKIP() << "husk-vmm was built without HUSK_TEST_HOOKS";
#endif
    ::setenv("HUSK_TEST_FORBIDDEN_SYSCALL", "vcpu", 1);
    auto run = run_vmm(jail_arguments("lab-sigsys") + std::vector<std::string> { "--", "true" }, 90s);
    ::unsetenv("HUSK_TEST_FORBIDDEN_SYSCALL");

    EXPECT_EQ(run.term_signal, SIGSYS) << describe(run);
    EXPECT_FALSE(std::filesystem::exists(std::string(jail_parent) + "/lab-sigsys"));
    EXPECT_FALSE(cgroup_exists("lab-sigsys"));
}

// With the vsock socket inside the jail root, a guest's connection to a host port reaches the
// `_<port>` socket beside it there (the VMM, pivoted, sees the root as "/"); the disk image and
// the listener were opened before the pivot. The guest is python3 on the debian-python disk.
TEST(LabJail, GuestVsockConnectFromJailedVmm_ReachesTheSocketInTheRoot)
{
    std::string const image = std::string(HUSK_ASSETS_DIR) + "/debian-python.ext4";
    if (::access(image.c_str(), R_OK) != 0)
        FAIL() << image << " missing: build it with packaging/rootfs/build.sh debian-python (as root)";
    auto root = std::string(jail_parent) + "/lab-vsock";
    std::string received;
    std::thread host([&] {
        // The launcher makes the root; then the host side's listener goes in, open to the jail uid.
        for (int i = 0; i < 600 && !std::filesystem::exists(root); ++i)
            std::this_thread::sleep_for(50ms);
        auto listener = listen_unix(root + "/vsock.sock_5000");
        if (!listener.is_valid())
            return;
        ::chmod((root + "/vsock.sock_5000").c_str(), 0666);
        pollfd ready { listener.get(), POLLIN, 0 };
        if (::poll(&ready, 1, 90'000) != 1)
            return;
        Fd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        char buffer[64];
        ssize_t got;
        while ((got = ::read(peer.get(), buffer, sizeof buffer)) > 0)
            received.append(buffer, static_cast<size_t>(got));
    });
    // One line: the kernel command line that carries the job cannot hold a newline.
    std::string const guest = "import socket,time;s=None;exec('for attempt in range(300):\\n try:\\n  "
                              "s=socket.socket(socket.AF_VSOCK,socket.SOCK_STREAM);s.connect((2,5000));break\\n "
                              "except OSError:time.sleep(0.1)');s.sendall(b'hello from the guest');s.close()";

    auto run = run_vmm(jail_arguments("lab-vsock")
            + std::vector<std::string> { "--memory", "256M", "--vsock", root + "/vsock.sock", "--disk", image + ",ro",
                "--cmdline", "husk.root=/dev/vda", "--", "python3", "-c", guest },
        180s);
    host.join();

    EXPECT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_EQ(json_number(run.report, "exit_code"), 0) << describe(run);
    EXPECT_EQ(received, "hello from the guest") << describe(run);
    EXPECT_FALSE(std::filesystem::exists(root)) << "the socket files go with the jail root";
}

TEST(LabJail, GuestOverItsCgroupMemoryLimit_OnlyThatVmDies)
{
    VmmRun neighbour;
    std::thread other([&] {
        neighbour = run_vmm(jail_arguments("lab-neighbour")
                + std::vector<std::string> { "--memory", "128M", "--", "sh", "-c", "sleep 30; exit 0" },
            240s);
    });
    // The guest fills its RAM-backed root with 400 MiB; its VMM may hold 192 MiB in all.
    auto hungry = run_vmm(jail_arguments("lab-hungry")
            + std::vector<std::string> { "--memory", "512M", "--jail-memory-limit", "192M", "--", "sh", "-c",
                "dd if=/dev/zero of=/fill bs=1M count=400; exit 0" },
        240s);
    other.join();

    EXPECT_EQ(hungry.term_signal, SIGKILL) << describe(hungry);
    EXPECT_EQ(neighbour.exit_status, 0) << describe(neighbour);
    EXPECT_EQ(json_number(neighbour.report, "exit_code"), 0) << describe(neighbour);
    for (char const* id : { "lab-hungry", "lab-neighbour" }) {
        EXPECT_FALSE(std::filesystem::exists(std::string(jail_parent) + "/" + id)) << id;
        EXPECT_FALSE(cgroup_exists(id)) << id;
    }
}
