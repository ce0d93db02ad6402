// Lab: networking without root. `husk run --net internet` as an unprivileged user (nobody, via
// setpriv) gets its network from passt (sdk/src/passt_network.hpp) through husk-vmm's
// --net-stream and a real guest. The test process runs in a network namespace of its own: a
// veth with 198.18.0.1/24 and a default route stands for the host's uplink (passt takes its
// outbound interface from the default route), a TCP server listens on the host's own address
// 198.18.0.1:8080 and a "loopback-only" one on 127.0.0.1:8081. The guest probes with busybox nc.
#include "tests/unit/runtime/net/net_test_world.hpp"

#include <array>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <thread>

using namespace husk;
using namespace husk::testing_net;
using namespace std::chrono_literals;

namespace {

constexpr char const* host_address = "198.18.0.1";
constexpr char const* nobody = "65534";

struct CliRun {
    int status { -1 };
    std::string out;
};

// The husk CLI as nobody, its stdout and stderr together.
CliRun husk_run_as_user(std::string const& arguments)
{
    std::string command = std::string("setpriv --reuid=") + nobody + " --regid=" + nobody
        + " --clear-groups -- env TMPDIR=/tmp HOME=/tmp " + HUSK_CLI_PATH + " run " + arguments + " 2>&1";
    CliRun run;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe)
        return run;
    std::array<char, 4096> buffer {};
    while (auto got = std::fread(buffer.data(), 1, buffer.size(), pipe))
        run.out.append(buffer.data(), got);
    int status = ::pclose(pipe);
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return run;
}

std::vector<pid_t> processes_named(std::string const& name)
{
    std::vector<pid_t> found;
    DIR* proc = ::opendir("/proc");
    if (!proc)
        return found;
    while (auto* entry = ::readdir(proc)) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
            continue;
        std::ifstream comm(std::string("/proc/") + entry->d_name + "/comm");
        std::string command;
        if (std::getline(comm, command) && command.starts_with(name))
            found.push_back(static_cast<pid_t>(std::stol(entry->d_name)));
    }
    ::closedir(proc);
    return found;
}

class LabPasst : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        ASSERT_EQ(::geteuid(), 0u) << "the lab runs tests as root (they drop to nobody themselves)";
        ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << "a network namespace of the suite's own";
        for (auto const& command : std::vector<std::vector<std::string>> { { "link", "set", "lo", "up" },
                 { "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1" },
                 { "addr", "add", std::string(host_address) + "/24", "dev", "uplink0" },
                 { "link", "set", "uplink0", "up" }, { "link", "set", "uplink1", "up" },
                 { "route", "add", "default", "via", "198.18.0.254" } }) {
            auto done = ip(command);
            ASSERT_TRUE(done) << done.error().message;
        }
        servers.push_back(start_in("", [] { serve_tcp(host_address, 8080, "hello-from-the-host\n"); }));
        servers.push_back(start_in("", [] { serve_tcp("127.0.0.1", 8081, "loopback-only-service\n"); }));
        // The lab's /dev is its own: let the unprivileged user open KVM, as a kvm group would.
        ASSERT_EQ(::chmod("/dev/kvm", 0666), 0);
        std::this_thread::sleep_for(100ms); // the servers are listening
    }
    static void TearDownTestSuite()
    {
        for (auto pid : servers) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    static inline std::vector<pid_t> servers;
};

TEST_F(LabPasst, HuskRunAsUser_NetInternet_ReachesAServerOnTheHostThroughPasst)
{
    auto run = husk_run_as_user(std::string("-q --net internet -- sh -c 'nc -w 5 ") + host_address
        + " 8080 </dev/null; echo probe-done'");
    EXPECT_EQ(run.status, 0) << run.out;
    EXPECT_NE(run.out.find("hello-from-the-host"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("probe-done"), std::string::npos) << run.out;
    EXPECT_TRUE(processes_named("passt").empty()) << "passt outlived its sandbox";
}

TEST_F(LabPasst, HuskRunAsUser_GatewayIsNotTheHostsLoopback)
{
    auto run = husk_run_as_user("-q --net internet -- sh -c 'nc -w 3 10.0.2.2 8081 </dev/null; echo probe-done'");
    EXPECT_EQ(run.status, 0) << run.out;
    EXPECT_NE(run.out.find("probe-done"), std::string::npos) << run.out;
    EXPECT_EQ(run.out.find("loopback-only-service"), std::string::npos) << run.out;
}

TEST_F(LabPasst, HuskRunAsUser_GuestEth0HasPasstsAddress)
{
    auto run = husk_run_as_user("-q --net internet -- sh -c 'ip -4 addr show eth0 || ifconfig eth0'");
    EXPECT_EQ(run.status, 0) << run.out;
    EXPECT_NE(run.out.find("10.0.2.15"), std::string::npos) << run.out;
}

TEST_F(LabPasst, HuskRunAsUser_AllowList_RefusedNotOpened)
{
    auto run = husk_run_as_user("-q --net allow=198.18.0.1:8080 -- true");
    EXPECT_EQ(run.status, 125) << run.out;
    EXPECT_NE(run.out.find("cannot be enforced"), std::string::npos) << run.out;
    EXPECT_TRUE(processes_named("passt").empty());
}

} // namespace
