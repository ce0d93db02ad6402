// Lab: Sandbox::detach and Sandbox::connect with real VMs — the VM outlives its handle, keeps its
// state, is taken over in this process and from another one (husk-lab-connect-probe), only once
// at a time, and leaves nothing behind when it ends while nobody holds it.
#include "husk/husk.hpp"
#include "tests/lab/sdk_lab_support.hpp"

#include <cstdio>
#include <filesystem>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <thread>

using namespace std::chrono_literals;

namespace {

using husk_lab::lab_options;
using husk_lab::shell;

bool process_exists(pid_t pid) { return std::filesystem::exists("/proc/" + std::to_string(pid)); }

// Waits until `condition` holds, at most `limit`.
template<typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(50ms);
    }
    return true;
}

// A detached VM with "kept" in /tmp/marker.
husk::DetachedSandbox detached_with_marker(husk::SandboxOptions options = lab_options())
{
    auto sandbox = husk::Sandbox::create(options);
    if (!sandbox) {
        ADD_FAILURE() << sandbox.error().message;
        return {};
    }
    auto wrote = sandbox->run_shell("echo kept > /tmp/marker");
    EXPECT_TRUE(wrote && wrote->ok());
    auto detached = sandbox->detach();
    if (!detached) {
        ADD_FAILURE() << detached.error().message;
        return {};
    }
    return *detached;
}

std::pair<int, std::string> run_probe(std::string const& directory, std::string const& then)
{
    return shell(std::string(HUSK_CONNECT_PROBE_PATH) + " " + directory + " " + then + " -- cat /tmp/marker");
}

} // namespace

TEST(SdkDetachLab, DetachThenConnect_SameVmWithItsFilesThenNothingLeft)
{
    auto detached = detached_with_marker();
    ASSERT_GT(detached.vmm_pid, 0);
    EXPECT_TRUE(process_exists(detached.vmm_pid)) << "the VM outlives its handle";
    EXPECT_TRUE(std::filesystem::exists(detached.directory + "/vsock.sock"));

    {
        auto sandbox = husk::Sandbox::connect(detached.directory, lab_options());
        ASSERT_TRUE(sandbox) << sandbox.error().message;
        EXPECT_EQ(sandbox->vmm_pid(), detached.vmm_pid);
        auto result = sandbox->run({ "cat", "/tmp/marker" });
        ASSERT_TRUE(result) << result.error().message;
        EXPECT_EQ(result->stdout_data, "kept\n");
    } // the new owner stops the VM

    EXPECT_TRUE(eventually([&] { return !process_exists(detached.vmm_pid); }, 5s)) << "stopped and reaped";
    EXPECT_FALSE(std::filesystem::exists(detached.directory));
}

TEST(SdkDetachLab, AnotherProcessTakesOverAndHandsBack)
{
    auto detached = detached_with_marker();
    ASSERT_GT(detached.vmm_pid, 0);

    auto [status, out] = run_probe(detached.directory, "detach");
    ASSERT_EQ(status, 0) << out;
    EXPECT_EQ(out, "kept\n" + detached.directory + "\n");
    EXPECT_TRUE(process_exists(detached.vmm_pid)) << "the probe detached it again";

    auto [second_status, second_out] = run_probe(detached.directory, "stop");
    ASSERT_EQ(second_status, 0) << second_out;
    EXPECT_EQ(second_out, "kept\n");
    EXPECT_TRUE(eventually([&] { return !process_exists(detached.vmm_pid); }, 5s));
    EXPECT_FALSE(std::filesystem::exists(detached.directory));
}

TEST(SdkDetachLab, SecondConnectWhileTheFirstHoldsIt_IsRefused)
{
    auto detached = detached_with_marker();
    auto first = husk::Sandbox::connect(detached.directory, lab_options());
    ASSERT_TRUE(first) << first.error().message;

    auto second = husk::Sandbox::connect(detached.directory, lab_options());

    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().kind, husk::ErrorKind::BadConfig) << second.error().message;
    auto still = first->run({ "cat", "/tmp/marker" });
    ASSERT_TRUE(still) << still.error().message;
    EXPECT_EQ(still->stdout_data, "kept\n");
}

TEST(SdkDetachLab, DetachedVmReachingItsLifetime_LeavesNoProcessNorDirectory)
{
    auto options = lab_options();
    options.lifetime = 20s;
    auto detached = detached_with_marker(options);
    ASSERT_GT(detached.vmm_pid, 0);

    EXPECT_TRUE(eventually([&] { return !process_exists(detached.vmm_pid); }, 40s)) << "no zombie left";
    EXPECT_TRUE(eventually([&] { return !std::filesystem::exists(detached.directory); }, 2s));
    auto connected = husk::Sandbox::connect(detached.directory, lab_options());
    EXPECT_FALSE(connected);
}
