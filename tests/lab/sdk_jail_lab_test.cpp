// Lab: libhusk jails its VMs by default when root (the lab runs as root). The VMM (the
// launcher's only child) runs as the sandbox's own uid/gid with seccomp and no_new_privs in an
// empty root; two sandboxes get different uids; nothing (jail root, cgroup, id lock file) is left
// after destroy, also after the launcher was killed with -9 mid-run.
#include "husk/husk.hpp"
#include "tests/lab/directory_entries.hpp"
#include "tests/lab/sdk_lab_support.hpp"

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {

constexpr char const* jail_parent = "/run/husk/jail";
constexpr char const* id_directory = "/run/husk/ids";

using husk_lab::children_of;
using husk_lab::field;
using husk_lab::lab_options;

std::string jail_id(uint32_t uid) { return "husk-" + std::to_string(uid); }

bool cgroup_exists(uint32_t uid)
{
    auto id = jail_id(uid);
    return std::filesystem::exists("/sys/fs/cgroup/husk/" + id)
        || std::filesystem::exists("/sys/fs/cgroup/memory/husk/" + id)
        || std::filesystem::exists("/sys/fs/cgroup/pids/husk/" + id);
}

bool id_locked(uint32_t uid)
{
    int fd = ::open((std::string(id_directory) + "/" + std::to_string(uid)).c_str(), O_RDONLY | O_NOFOLLOW);
    if (fd < 0)
        return false;
    bool locked = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
    ::close(fd);
    return locked;
}

void expect_nothing_left(uint32_t uid)
{
    EXPECT_FALSE(std::filesystem::exists(std::string(jail_parent) + "/" + jail_id(uid))) << "jail root left";
    EXPECT_FALSE(cgroup_exists(uid)) << "cgroup left";
    EXPECT_FALSE(std::filesystem::exists(std::string(id_directory) + "/" + std::to_string(uid))) << "lock file left";
    EXPECT_FALSE(id_locked(uid)) << "id still locked";
}

husk::Sandbox create_sandbox(husk::SandboxOptions options = lab_options())
{
    auto sandbox = husk::Sandbox::create(options);
    if (!sandbox) {
        ADD_FAILURE() << husk::error_kind_name(sandbox.error().kind) << ": " << sandbox.error().message;
        std::abort();
    }
    return std::move(*sandbox);
}

} // namespace

TEST(SdkJailLab, DefaultSandboxAsRoot_RunsJailedAndLeavesNothing)
{
    uint32_t uid = 0;
    {
        auto sandbox = create_sandbox();
        ASSERT_TRUE(sandbox.jailed());
        uid = sandbox.jail_uid();
        auto children = children_of(sandbox.vmm_pid());
        ASSERT_EQ(children.size(), 1u) << "the launcher should have the VMM as its only child";
        pid_t vmm = children.front();
        auto ids = std::to_string(uid) + "\t" + std::to_string(uid) + "\t" + std::to_string(uid) + "\t"
            + std::to_string(uid);

        auto result = sandbox.run({ "echo", "jailed" });

        EXPECT_GE(uid, 1'900'000'000u);
        EXPECT_EQ(field(vmm, "Uid"), ids);
        EXPECT_EQ(field(vmm, "Gid"), ids);
        EXPECT_EQ(field(vmm, "Groups"), "");
        EXPECT_EQ(field(vmm, "Seccomp"), "2");
        EXPECT_EQ(field(vmm, "NoNewPrivs"), "1");
        auto root = husk_lab::directory_entries("/proc/" + std::to_string(vmm) + "/root/");
        ASSERT_TRUE(root) << "the jail root could not be listed through /proc";
        EXPECT_TRUE(root->empty()) << "the jail root holds " << root->size() << " entries";
        EXPECT_TRUE(std::filesystem::exists(std::string(jail_parent) + "/" + jail_id(uid)));
        EXPECT_TRUE(cgroup_exists(uid));
        EXPECT_TRUE(id_locked(uid));
        ASSERT_TRUE(result) << result.error().message;
        EXPECT_EQ(result->stdout_data, "jailed\n");
    }
    expect_nothing_left(uid);
}

TEST(SdkJailLab, TwoConcurrentSandboxes_GetDifferentUids)
{
    auto first = create_sandbox();
    auto second = create_sandbox();

    auto first_run = first.run({ "true" });
    auto second_run = second.run({ "true" });

    EXPECT_TRUE(first.jailed() && second.jailed());
    EXPECT_NE(first.jail_uid(), second.jail_uid());
    EXPECT_TRUE(first_run && first_run->ok());
    EXPECT_TRUE(second_run && second_run->ok());
}

TEST(SdkJailLab, LauncherKilledMidRun_RunFailsWithinOneSecondAndNothingIsLeft)
{
    auto sandbox = create_sandbox();
    uint32_t uid = sandbox.jail_uid();
    auto process = sandbox.start({ "sleep", "100" });
    ASSERT_TRUE(process);

    auto killed = std::chrono::steady_clock::now();
    ASSERT_EQ(::kill(sandbox.vmm_pid(), SIGKILL), 0);
    auto result = process->wait(10s);
    auto elapsed = std::chrono::steady_clock::now() - killed;
    (void)sandbox.shutdown();

    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, husk::ErrorKind::VmDied) << result.error().message;
    EXPECT_LT(elapsed, 1s);
    expect_nothing_left(uid);
}

TEST(SdkJailLab, JailOff_RunsUnjailedAsThisUser)
{
    auto options = lab_options();
    options.jail = husk::JailMode::Off;
    auto sandbox = create_sandbox(options);

    auto result = sandbox.run({ "true" });

    EXPECT_FALSE(sandbox.jailed());
    EXPECT_EQ(field(sandbox.vmm_pid(), "Uid").substr(0, 2), "0\t");
    EXPECT_EQ(field(sandbox.vmm_pid(), "Seccomp"), "2");
    EXPECT_TRUE(result && result->ok());
}
