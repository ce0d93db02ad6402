// Lab: libhusk and the husk CLI against real VMs (husk-vmm, hybrid vsock, husk-init's agent).
// Each test boots at least one VM, so counts stay modest under the lab's TCG.
#include "husk/husk.hpp"
#include "sdk/src/step_trace.hpp"
#include "tests/lab/sdk_lab_support.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <mutex>
#include <random>
#include <sys/wait.h>
#include <thread>

using namespace std::chrono_literals;

namespace {

using husk_lab::lab_options;
using husk_lab::shell;

husk::Sandbox create_sandbox()
{
    auto sandbox = husk::Sandbox::create(lab_options());
    if (!sandbox) {
        ADD_FAILURE() << husk::error_kind_name(sandbox.error().kind) << ": " << sandbox.error().message;
        std::abort();
    }
    return std::move(*sandbox);
}

size_t count_entries(std::string const& directory, std::string const& prefix = "")
{
    size_t count = 0;
    for (auto const& entry : std::filesystem::directory_iterator(directory))
        count += entry.path().filename().string().starts_with(prefix);
    return count;
}

size_t child_count() { return husk_lab::children_of(getpid()).size(); }

std::string temp_base()
{
    for (char const* variable : { "XDG_RUNTIME_DIR", "TMPDIR" }) {
        if (char const* value = std::getenv(variable); value && *value == '/')
            return value;
    }
    return "/tmp";
}

} // namespace

TEST(SdkLab, Run_EchoComesBack)
{
    auto sandbox = create_sandbox();

    auto result = sandbox.run({ "echo", "hi" });

    ASSERT_TRUE(result) << result.error().message;
    EXPECT_TRUE(result->ok());
    EXPECT_EQ(result->stdout_data, "hi\n");
}

// husk-vmm holds a cold boot's host connects until husk-init's agent reports listening: libhusk's
// first connect once the socket exists is the one that works, none is refused and retried.
TEST(SdkLab, ColdCreate_ConnectsWithoutARefusedConnect)
{
    husk::detail::enable_step_trace(true);
    (void)husk::detail::take_step_trace();
    auto sandbox = create_sandbox();
    auto result = sandbox.run({ "true" });
    husk::detail::enable_step_trace(false);
    auto steps = husk::detail::take_step_trace();

    ASSERT_TRUE(result) << result.error().message;
    EXPECT_TRUE(result->ok());
    size_t refused = 0;
    size_t connected = 0;
    std::string names;
    for (auto const& step : steps) {
        refused += step.name == "connect: refused";
        connected += step.name == "connected";
        names += step.name + "; ";
    }
    EXPECT_EQ(refused, 0u) << names;
    EXPECT_EQ(connected, 1u) << names;
}

TEST(SdkLab, FilesAndJobs_ShareTheGuest)
{
    auto sandbox = create_sandbox();

    ASSERT_TRUE(sandbox.write_file("/tmp/hello.txt", "from the host\n"));
    auto result = sandbox.run({ "cat", "/tmp/hello.txt" });
    auto info = sandbox.stat("/tmp/hello.txt");

    ASSERT_TRUE(result);
    EXPECT_EQ(result->stdout_data, "from the host\n");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->size, 14u);
}

// 10 rounds, 4–5 s each in CI's lab: a leaked descriptor, child or directory per sandbox shows in
// any number of rounds, and the repetition is for rare shutdown races; it was 50 rounds, three
// more minutes of CI per run.
TEST(SdkLab, CreateRunShutdown10Times_EveryShutdownIsCleanAndNothingLeaks)
{
    constexpr int rounds = 10;
    { // warm-up: the spawner thread and lazily opened descriptors exist from here on
        auto sandbox = create_sandbox();
        ASSERT_TRUE(sandbox.run({ "true" }));
    }
    auto fds = count_entries("/proc/self/fd");
    auto children = child_count();
    auto dirs = count_entries(temp_base(), "husk-");

    int clean_shutdowns = 0;
    for (int i = 0; i < rounds; ++i) {
        auto sandbox = create_sandbox();
        auto result = sandbox.run({ "true" });
        ASSERT_TRUE(result && result->ok()) << "round " << i;
        auto stopped = sandbox.shutdown();
        EXPECT_TRUE(stopped) << "round " << i << ": " << stopped.error().message;
        clean_shutdowns += stopped ? 1 : 0;
    }

    EXPECT_EQ(clean_shutdowns, rounds);
    EXPECT_EQ(count_entries("/proc/self/fd"), fds);
    EXPECT_EQ(child_count(), children);
    EXPECT_EQ(count_entries(temp_base(), "husk-"), dirs);
}

TEST(SdkLab, VmmKilledMidRun_PendingRunFailsWithinOneSecond)
{
    auto sandbox = create_sandbox();
    auto process = sandbox.start({ "sleep", "100" });
    ASSERT_TRUE(process);

    auto killed = std::chrono::steady_clock::now();
    ASSERT_EQ(kill(sandbox.vmm_pid(), SIGKILL), 0);
    auto result = process->wait(10s);
    auto elapsed = std::chrono::steady_clock::now() - killed;

    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, husk::ErrorKind::VmDied) << result.error().message;
    EXPECT_NE(result.error().message.find("signal 9"), std::string::npos) << result.error().message;
    EXPECT_LT(elapsed, 1s);
    auto later = sandbox.run({ "true" });
    ASSERT_FALSE(later);
    EXPECT_EQ(later.error().kind, husk::ErrorKind::VmDied);
}

TEST(SdkLab, FourSandboxesConcurrently_EachRunsItsJobs)
{
    std::mutex mutex;
    std::vector<std::string> failures;
    auto failed = [&](std::string what) {
        std::lock_guard lock(mutex);
        failures.push_back(std::move(what));
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            auto options = lab_options();
            options.boot_timeout = 180s; // four TCG-nested boots share the lab's two CPUs
            auto sandbox = husk::Sandbox::create(options);
            if (!sandbox) {
                failed("create " + std::to_string(t) + ": " + sandbox.error().message);
                return;
            }
            for (int i = 0; i < 3; ++i) {
                auto tag = std::to_string(t) + "." + std::to_string(i);
                auto result = sandbox->run({ "echo", tag });
                if (!result)
                    failed("run " + tag + ": " + result.error().message);
                else if (result->stdout_data != tag + "\n")
                    failed("run " + tag + ": stdout '" + result->stdout_data + "'");
            }
        });
    }
    for (auto& thread : threads)
        thread.join();

    for (auto const& failure : failures)
        ADD_FAILURE() << failure;
}

class CliExitStatus : public testing::TestWithParam<std::pair<char const*, int>> { };

TEST_P(CliExitStatus, MatchesDockerConvention)
{
    auto [arguments, expected] = GetParam();

    // stderr joins stdout so a failure shows what husk said; only the status is checked.
    auto [status, out] = shell(std::string(HUSK_CLI_PATH) + " run -q " + arguments + " 2>&1");

    EXPECT_EQ(status, expected) << arguments << "\nhusk printed: " << out;
}

INSTANTIATE_TEST_SUITE_P(Table, CliExitStatus,
    testing::Values(std::pair { "-- true", 0 }, std::pair { "-- sh -c 'exit 3'", 3 },
        std::pair { "-- sh -c 'kill -9 $$'", 137 }, std::pair { "-- sh -c 'kill -TERM $$'", 143 },
        std::pair { "-- /no/such/program", 127 }, std::pair { "-- /", 126 },
        std::pair { "--timeout 1s -- sleep 30", 137 }, std::pair { "--memory lots -- true", 125 },
        std::pair { "--rootfs /nonexistent.img -- true", 125 }));

TEST(SdkLab, CliCat20MiB_OutputMatchesInput)
{
    auto input = temp_base() + "/husk-lab-cat-input";
    {
        std::ofstream file(input, std::ios::binary);
        std::mt19937_64 random(42);
        std::vector<uint64_t> block(1 << 17);
        for (int i = 0; i < 20; ++i) {
            for (auto& word : block)
                word = random();
            file.write(reinterpret_cast<char const*>(block.data()), block.size() * sizeof(uint64_t));
        }
    }

    auto [status, through] = shell(std::string(HUSK_CLI_PATH) + " run -q -- cat < " + input + " | sha256sum");
    auto [local_status, direct] = shell("sha256sum < " + input);
    std::filesystem::remove(input);

    EXPECT_EQ(status, 0);
    EXPECT_EQ(through.substr(0, 64), direct.substr(0, 64));
}

TEST(SdkLab, CliRootfsDebianPython_ComputesInPython)
{
    // The README's main job. The lab runs as root, so the VM is jailed (the default; SdkJailLab
    // checks what that means), with the Debian image bind-mounted read-only into its jail root.
    auto [status, out] = shell(std::string(HUSK_CLI_PATH)
        + " run -q --rootfs debian-python -- python3 -c 'import os; print(6*7, os.path.exists(\"/usr/bin/python3\"))'");

    EXPECT_EQ(status, 0);
    EXPECT_EQ(out, "42 True\n");
}

TEST(SdkLab, CliJson_PrintsOneResultObject)
{
    auto [status, out] = shell(std::string(HUSK_CLI_PATH) + " run --json -- sh -c 'echo out; exit 4'");

    EXPECT_EQ(status, 4);
    EXPECT_NE(out.find("\"exit_status\":4"), std::string::npos) << out;
    EXPECT_NE(out.find("\"stdout\":\"out\\n\""), std::string::npos) << out;
}

TEST(SdkLab, CliVerbose_ReportsTheBootOnStderr)
{
    // A nested-emulation boot takes more than the one quiet second, so the progress lines show.
    auto [status, err] = shell(std::string(HUSK_CLI_PATH) + " run --verbose -- true 2>&1 >/dev/null");

    EXPECT_EQ(status, 0);
    EXPECT_NE(err.find("husk: booting the VM (1 vCPU, 256 MiB)...\n"), std::string::npos) << err;
    EXPECT_NE(err.find("husk: the VM was up after "), std::string::npos) << err;
}

TEST(SdkLab, CliVmmFailing_IsOneLineWithoutVerbose)
{
    // A guest kernel that is not a kernel: husk-vmm exits during boot with its reason logged.
    auto bogus = temp_base() + "/husk-lab-bogus-kernel";
    std::ofstream(bogus) << "not a kernel";

    auto [status, err] = shell(std::string(HUSK_CLI_PATH) + " run --kernel " + bogus + " -- true 2>&1 >/dev/null");
    auto [verbose_status, verbose_err]
        = shell(std::string(HUSK_CLI_PATH) + " run --verbose --kernel " + bogus + " -- true 2>&1 >/dev/null");
    std::filesystem::remove(bogus);

    EXPECT_EQ(status, 125);
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_NE(err.find("(--verbose shows more)"), std::string::npos) << err;
    EXPECT_EQ(verbose_status, 125);
    EXPECT_GT(std::count(verbose_err.begin(), verbose_err.end(), '\n'), 1) << verbose_err;
}
