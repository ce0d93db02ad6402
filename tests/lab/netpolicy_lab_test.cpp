// Lab: sandbox networking around real guests (husk-vmm --jail --net ...). The lab host is the
// "host"; a "world" namespace it builds (tests/unit/runtime/net/net_test_world.hpp) has TCP
// servers on 198.18.1.10:80, :81 and 198.18.1.11:80 and a DNS server on 198.18.1.53; a fake
// metadata service listens on the host's 169.254.169.254:80 and a host service on
// 198.18.0.1:2222. Guests probe with busybox nc and nslookup and print one line per probe.
#include "runtime/base/fd.hpp"
#include "runtime/net/network_namespace.hpp"
#include "runtime/net/network_teardown.hpp"
#include "runtime/net/sandbox_addresses.hpp"
#include "tests/lab/guest_probe_script.hpp"
#include "tests/lab/vmm_process.hpp"
#include "tests/unit/runtime/net/net_test_world.hpp"

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sched.h>
#include <set>
#include <sys/mount.h>
#include <thread>

using namespace husk;
using namespace husk::lab;
using namespace husk::testing_net;
using namespace std::chrono_literals;

namespace {
constexpr char const* jail_parent = "/tmp/husk-lab-net-jails";
constexpr char const* guest_running_marker = "guest init started";
constexpr char const* host_hosts_file = "/tmp/husk-lab-netpolicy-hosts";

std::string describe(VmmRun const& run)
{
    return "exit " + std::to_string(run.exit_status) + " signal " + std::to_string(run.term_signal)
        + "\nreport: " + run.report + "\nstdout:\n" + run.out + "\nstderr:\n" + run.err;
}

std::vector<std::string> jailed(std::string const& id, std::vector<std::string> more)
{
    static int next_uid = 40300;
    auto uid = std::to_string(next_uid++);
    std::vector<std::string> arguments { "--jail", jail_parent, "--jail-id", id, "--jail-uid", uid, "--jail-gid", uid };
    if (std::find(more.begin(), more.end(), "--net") != more.end())
        arguments.insert(arguments.end(), { "--net-dns", "198.18.1.53" });
    arguments.insert(arguments.end(), more.begin(), more.end());
    return arguments;
}

// The slot a launcher's network got, from its log line "network: ... in /run/netns/husk-net-N".
std::optional<uint32_t> slot_of(VmmRun const& run)
{
    auto at = run.err.find("/run/netns/husk-net-");
    if (at == std::string::npos)
        return std::nullopt;
    return static_cast<uint32_t>(std::stoul(run.err.substr(at + std::string("/run/netns/husk-net-").size())));
}

std::set<std::string> names_in(std::string const& path)
{
    std::set<std::string> names;
    std::error_code error;
    for (std::filesystem::directory_iterator it(path, error), end; !error && it != end; it.increment(error))
        names.insert(it->path().filename().string());
    return names;
}

bool says(VmmRun const& run, std::string const& line) { return run.out.find(line) != std::string::npos; }

std::vector<pid_t> processes_named(std::string const& name)
{
    std::vector<pid_t> found;
    for (auto const& entry : names_in("/proc")) {
        if (entry.empty() || entry[0] < '0' || entry[0] > '9')
            continue;
        auto comm = read_file("/proc/" + entry + "/comm", 256).value_or("");
        if (comm == name + "\n")
            found.push_back(std::stoi(entry));
    }
    return found;
}

class LabNetPolicy : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        std::filesystem::create_directories(jail_parent);
        ::chmod(jail_parent, 0700);
        // The host's resolver knows early.test (its /etc/hosts, in a mount namespace of the
        // suite's own); the world's DNS server does not: an allow-list entry for it can only
        // open through resolution at policy time.
        ASSERT_EQ(::unshare(CLONE_NEWNS), 0);
        ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
        {
            std::ofstream hosts(host_hosts_file);
            hosts << "127.0.0.1 localhost\n198.18.1.11 early.test\n";
        }
        ASSERT_EQ(::mount(host_hosts_file, "/etc/hosts", nullptr, MS_BIND, nullptr), 0);
        auto world = build_world();
        ASSERT_TRUE(world) << world.error().message;
    }
};
} // namespace

TEST_F(LabNetPolicy, NetNone_GuestHasNoEth0AndNoNetworkIsBuilt)
{
    auto run = run_vmm(jailed("lab-net-none", { "--serial", "stdout", "--", "sh", "-c", "ls /sys/class/net" }), 120s);
    ASSERT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_TRUE(says(run, "lo")) << describe(run);
    EXPECT_FALSE(says(run, "eth0")) << describe(run);
    EXPECT_EQ(run.err.find("network:"), std::string::npos) << describe(run);
}

TEST_F(LabNetPolicy, AllowList_ReachesOnlyTheAllowedServerAndPort_PublishReachesAnotherGuest)
{
    // Sandbox B: internet, a server in its guest published on host port 18080. Its namespace is
    // the one that appears once it starts (an earlier run's leftover may be there until reaped).
    auto before = names_in("/run/netns");
    VmmRun other;
    std::thread other_thread([&] {
        other = run_vmm(jailed("lab-net-b",
                            { "--net", "internet", "--publish", "18080:80", "--timeout", "90s", "--serial", "stdout",
                                "--", "sh", "-c", "echo other-guest | nc -l -p 80; echo served" }),
            150s);
    });
    std::optional<uint32_t> other_slot;
    for (int i = 0; i < 600 && !other_slot; ++i) {
        for (auto const& name : names_in("/run/netns")) {
            if (name.starts_with("husk-net-") && !before.contains(name))
                other_slot = static_cast<uint32_t>(std::stoul(name.substr(9)));
        }
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(other_slot) << "sandbox B built no network";
    auto other_guest = to_string(sandbox_addresses(*other_slot).guest);

    auto run
        = run_vmm(jailed("lab-net-a",
                      { "--net", "allow=198.18.1.10:80", "--serial", "stdout", "--", "sh", "-c",
                          "sleep 2; "
                              + husk_lab::guest_probe_script({ "198.18.1.10:80", "198.18.1.10:81", "198.18.1.11:80",
                                  "169.254.169.254:80", "198.18.0.1:2222", other_guest + ":80" }) }),
            150s);
    EXPECT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_TRUE(says(run, "198.18.1.10:80 open")) << describe(run);
    EXPECT_TRUE(says(run, "198.18.1.10:81 closed")) << describe(run);
    EXPECT_TRUE(says(run, "198.18.1.11:80 closed")) << describe(run);
    EXPECT_TRUE(says(run, "169.254.169.254:80 closed")) << describe(run);
    EXPECT_TRUE(says(run, "198.18.0.1:2222 closed")) << describe(run);
    EXPECT_TRUE(says(run, other_guest + ":80 closed")) << describe(run);

    // --publish: the world reaches B's guest server through the host's port 18080.
    Reach published = Reach::Error;
    for (int i = 0; i < 20 && published != Reach::Connected; ++i) {
        published = connect_from(named_netns_path("world"), "198.18.0.1", 18080, 2000);
        if (published != Reach::Connected)
            std::this_thread::sleep_for(500ms);
    }
    EXPECT_EQ(published, Reach::Connected);
    other_thread.join();
    EXPECT_TRUE(says(other, "served")) << describe(other);
}

TEST_F(LabNetPolicy, AllowedName_WorksOnlyForThatName)
{
    std::string script = "gw=$(sed -n 's/.*husk.dns=\\([0-9.]*\\).*/\\1/p' /proc/cmdline); sleep 2; "
        + husk_lab::guest_probe_script({ "198.18.1.10:80" }) + "; "
        + "nslookup allowed.test $gw | grep -q 198.18.1.10 && echo 'allowed.test resolved'; "
        + "nslookup other.test $gw | grep -q 198.18.1.11 && echo 'other.test resolved'; "
        + husk_lab::guest_probe_script({ "198.18.1.10:80" }) + "; "
        + husk_lab::guest_probe_script({ "198.18.1.11:80", "198.18.1.53:53" }) + " | sed 's/^/after: /'";
    auto run = run_vmm(
        jailed("lab-net-names", { "--net", "allow=allowed.test:80", "--serial", "stdout", "--", "sh", "-c", script }),
        150s);
    EXPECT_EQ(run.exit_status, 0) << describe(run);
    auto first = run.out.find("198.18.1.10:80 closed");
    auto resolved = run.out.find("allowed.test resolved");
    auto opened = run.out.find("198.18.1.10:80 open");
    EXPECT_NE(first, std::string::npos) << "open before the name was resolved\n" << describe(run);
    EXPECT_NE(resolved, std::string::npos) << describe(run);
    EXPECT_NE(opened, std::string::npos) << describe(run);
    EXPECT_LT(first, opened) << describe(run);
    EXPECT_FALSE(says(run, "other.test resolved")) << describe(run);
    EXPECT_TRUE(says(run, "after: 198.18.1.11:80 closed")) << describe(run);
    EXPECT_TRUE(says(run, "after: 198.18.1.53:53 closed")) << describe(run);
    // The host's resolver does not know it: it was left to the forwarder, and said so.
    EXPECT_NE(run.err.find("allowed.test:80 did not resolve on the host"), std::string::npos) << describe(run);
}

// A name the host resolves when the policy is built opens its address from the first packet,
// without the guest resolving anything (the world's DNS server does not even know the name).
TEST_F(LabNetPolicy, AllowedName_ResolvedOnTheHostAtStart_OpenWithoutAGuestLookup)
{
    auto run = run_vmm(jailed("lab-net-early-name",
                           { "--net", "allow=early.test:80", "--serial", "stdout", "--", "sh", "-c",
                               husk_lab::guest_probe_script({ "198.18.1.11:80", "198.18.1.10:80" }) }),
        150s);
    EXPECT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_NE(run.err.find("early.test:80 resolved on the host to 198.18.1.11"), std::string::npos) << describe(run);
    EXPECT_TRUE(says(run, "198.18.1.11:80 open")) << describe(run);
    EXPECT_TRUE(says(run, "198.18.1.10:80 closed")) << describe(run);
}

TEST_F(LabNetPolicy, TwentySandboxes_LeaveNothingBehind)
{
    std::set<uint32_t> slots;
    for (int i = 0; i < 20; ++i) {
        auto policy = i % 2 ? "internet" : "allow=allowed.test:80,198.18.1.10";
        std::vector<std::string> arguments { "--net", policy, "--publish", std::to_string(20000 + i) + ":80", "--",
            "ip", "link", "show", "eth0" };
        auto run = run_vmm(jailed("lab-net-many-" + std::to_string(i), arguments), 120s);
        ASSERT_EQ(run.exit_status, 0) << describe(run);
        EXPECT_EQ(json_number(run.report, "exit_code"), 0) << "no eth0 in the guest\n" << describe(run);
        auto slot = slot_of(run);
        ASSERT_TRUE(slot) << describe(run);
        slots.insert(*slot);
    }
    for (auto slot : slots)
        EXPECT_FALSE(sandbox_network_leftovers_exist(sandbox_addresses(slot))) << "slot " << slot;
    for (auto const& name : names_in("/run/netns"))
        EXPECT_FALSE(name.starts_with("husk-")) << name;
    for (auto const& name : names_in("/sys/class/net"))
        EXPECT_FALSE(name.starts_with("husk-")) << name;
    EXPECT_TRUE(names_in("/run/husk/net").empty());
    EXPECT_TRUE(processes_named("dnsmasq").empty());
    EXPECT_TRUE(processes_named("husk-vmm").empty());
}

TEST_F(LabNetPolicy, OwnerKilledWithSigkill_NextStartReapsItsNetwork)
{
    RunningProbe probe { guest_running_marker, [](int launcher) { ::kill(launcher, SIGKILL); } };
    // A killed launcher leaves its jail root and cgroup to libhusk, which is not here: a name of
    // its own per run keeps a repeated run from tripping over them.
    auto killed = run_vmm(jailed("lab-net-killed-" + std::to_string(::getpid()),
                              { "--net", "allow=allowed.test:80", "--", "sleep", "60" }),
        120s, true, &probe);
    ASSERT_EQ(killed.term_signal, SIGKILL) << describe(killed);
    // The VMM dies with its launcher (not when its 60 s job ends), even after its uid drop.
    EXPECT_LT(killed.wall, 30s) << describe(killed);
    auto slot = slot_of(killed);
    ASSERT_TRUE(slot) << describe(killed);
    auto abandoned = sandbox_addresses(*slot);
    EXPECT_TRUE(sandbox_network_leftovers_exist(abandoned)) << "kill -9 of the launcher left nothing?";

    auto next = run_vmm(
        jailed("lab-net-next-" + std::to_string(::getpid()), { "--exit-before-run", "--net", "internet" }), 120s);
    ASSERT_EQ(next.exit_status, 0) << describe(next);
    EXPECT_NE(next.err.find("network reaper: removed"), std::string::npos) << describe(next);
    EXPECT_FALSE(sandbox_network_leftovers_exist(abandoned));
    EXPECT_TRUE(processes_named("dnsmasq").empty());
    EXPECT_TRUE(names_in("/run/husk/net").empty());
}

TEST_F(LabNetPolicy, ReapNetworksCommand_RemovesWhatAKilledLauncherLeft)
{
    RunningProbe probe { guest_running_marker, [](int launcher) { ::kill(launcher, SIGKILL); } };
    auto killed = run_vmm(jailed("lab-net-reaped-" + std::to_string(::getpid()),
                              { "--net", "allow=allowed.test:80", "--", "sleep", "60" }),
        120s, true, &probe);
    ASSERT_EQ(killed.term_signal, SIGKILL) << describe(killed);
    auto slot = slot_of(killed);
    ASSERT_TRUE(slot) << describe(killed);
    ASSERT_TRUE(sandbox_network_leftovers_exist(sandbox_addresses(*slot)));

    auto reaper = run_vmm({ "--reap-networks" }, 60s, false);
    EXPECT_EQ(reaper.exit_status, 0) << describe(reaper);
    EXPECT_NE(reaper.err.find("1 abandoned sandbox network(s) removed"), std::string::npos) << describe(reaper);
    EXPECT_FALSE(sandbox_network_leftovers_exist(sandbox_addresses(*slot)));
    EXPECT_TRUE(processes_named("dnsmasq").empty());
}

// The same policy through libhusk and the CLI: husk run --net ... --publish ... reaches husk-vmm.
TEST_F(LabNetPolicy, HuskRun_NetAllowList_PassesThroughTheSdk)
{
    std::string command = std::string(HUSK_CLI_PATH)
        + " run -q --require-jail --net allow=198.18.1.10:80 --net-dns 198.18.1.53 --publish 18181:80 -- sh -c '"
        + husk_lab::guest_probe_script({ "198.18.1.10:80", "198.18.1.11:80", "169.254.169.254:80" }) + "' 2>&1";
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::array<char, 4096> buffer {};
    while (auto got = std::fread(buffer.data(), 1, buffer.size(), pipe))
        out.append(buffer.data(), got);
    int status = ::pclose(pipe);
    EXPECT_EQ(WEXITSTATUS(status), 0) << out;
    EXPECT_NE(out.find("198.18.1.10:80 open"), std::string::npos) << out;
    EXPECT_NE(out.find("198.18.1.11:80 closed"), std::string::npos) << out;
    EXPECT_NE(out.find("169.254.169.254:80 closed"), std::string::npos) << out;
    for (auto const& name : names_in("/run/netns"))
        EXPECT_FALSE(name.starts_with("husk-")) << name << " left behind by husk run";
}
