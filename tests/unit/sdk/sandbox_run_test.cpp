// Sandbox::run and start against the real agent: results, exit kinds, stdin, streaming, signals,
// timeouts, output limits and concurrent use from several threads.
#include "tests/unit/sdk/sandbox_test_support.hpp"

#include "husk/exit_status.hpp"

#include <atomic>
#include <csignal>

namespace husk::sdk_testing {
namespace {

    using namespace std::chrono_literals;
    using SandboxRun = RealAgentSandbox;

    TEST_F(SandboxRun, Echo_GivesStdoutAndExitZero)
    {
        auto result = run({ "echo", "hi" });

        EXPECT_TRUE(result.ok());
        EXPECT_EQ(result.stdout_data, "hi\n");
        EXPECT_EQ(result.stderr_data, "");
        EXPECT_GT(result.wall_duration.count(), 0);
    }

    TEST_F(SandboxRun, NonZeroExit_IsAResultNotAnError)
    {
        auto result = run({ "sh", "-c", "echo oops >&2; exit 3" });

        EXPECT_EQ(result.status, RunStatus::Exited);
        EXPECT_EQ(result.exit_code, 3);
        EXPECT_EQ(result.stderr_data, "oops\n");
        EXPECT_EQ(docker_exit_status(result), 3);
    }

    TEST_F(SandboxRun, KilledBySignal_ReportsTheSignal)
    {
        auto result = run({ "sh", "-c", "kill -TERM $$" });

        EXPECT_EQ(result.status, RunStatus::Signaled);
        EXPECT_EQ(result.signal, SIGTERM);
        EXPECT_EQ(docker_exit_status(result), 143);
    }

    TEST_F(SandboxRun, MissingProgram_IsSpawnFailedNotFound)
    {
        auto result = run({ "/no/such/program" });

        EXPECT_EQ(result.status, RunStatus::SpawnFailed);
        EXPECT_EQ(result.spawn_error, SpawnErrorKind::NotFound);
        EXPECT_EQ(docker_exit_status(result), 127);
    }

    TEST_F(SandboxRun, NonExecutableFile_IsSpawnFailedCannotExecute)
    {
        auto path = scratch + "/data";
        ASSERT_TRUE(sandbox->write_file(path, "not a program", 0644));

        auto result = run({ path });

        EXPECT_EQ(result.status, RunStatus::SpawnFailed);
        EXPECT_EQ(docker_exit_status(result), 126);
    }

    TEST_F(SandboxRun, StdinData_ReachesTheJob)
    {
        RunOptions options;
        options.stdin_data = std::string(3 << 20, 'x') + "end";

        auto result = run({ "wc", "-c" }, options);

        EXPECT_TRUE(result.ok());
        EXPECT_EQ(std::stoul(result.stdout_data), (3u << 20) + 3);
    }

    TEST_F(SandboxRun, EnvAndWorkdir_ComeFromSandboxAndJob)
    {
        RunOptions options;
        options.env = { "GREETING=hello" };
        options.workdir = scratch;

        auto result = run({ "sh", "-c", "echo $GREETING; pwd" }, options);

        EXPECT_EQ(result.stdout_data, "hello\n" + scratch + "\n");
    }

    TEST_F(SandboxRun, Timeout_KillsTheJobAndSaysTimedOut)
    {
        RunOptions options;
        options.timeout = 200ms;
        auto started = std::chrono::steady_clock::now();

        auto result = run({ "sleep", "30" }, options);

        EXPECT_EQ(result.status, RunStatus::TimedOut);
        EXPECT_TRUE(result.timed_out());
        EXPECT_EQ(result.signal, SIGKILL);
        EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    }

    TEST_F(SandboxRun, OutputBeyondTheLimit_IsTruncated)
    {
        RunOptions options;
        options.output_limit_bytes = 1000;

        auto result = run({ "sh", "-c", "head -c 100000 /dev/zero" }, options);

        EXPECT_TRUE(result.ok());
        EXPECT_EQ(result.stdout_data.size(), 1000u);
        EXPECT_TRUE(result.stdout_truncated);
        EXPECT_FALSE(result.stderr_truncated);
    }

    TEST_F(SandboxRun, BadJobOptions_AreBadConfig)
    {
        RunOptions relative;
        relative.workdir = "tmp";
        RunOptions bad_env;
        bad_env.env = { "NOEQUALS" };

        EXPECT_EQ(sandbox->run({}).error().kind, ErrorKind::BadConfig);
        EXPECT_EQ(sandbox->run({ "true" }, relative).error().kind, ErrorKind::BadConfig);
        EXPECT_EQ(sandbox->run({ "true" }, bad_env).error().kind, ErrorKind::BadConfig);
        EXPECT_EQ(sandbox->run({ std::string("a\0b", 3) }).error().kind, ErrorKind::BadConfig);
    }

    TEST_F(SandboxRun, Start_StreamsOutputToCallbacksAndTakesStdin)
    {
        std::mutex mutex;
        std::string seen;
        StartOptions options;
        options.on_stdout = [&](std::span<uint8_t const> chunk) {
            std::lock_guard lock(mutex);
            seen.append(chunk.begin(), chunk.end());
        };
        auto process = sandbox->start({ "cat" }, options);
        ASSERT_TRUE(process) << process.error().message;

        ASSERT_TRUE(process->write_stdin("one "));
        ASSERT_TRUE(process->write_stdin("two"));
        ASSERT_TRUE(process->close_stdin());
        auto result = process->wait(5s);

        ASSERT_TRUE(result) << result.error().message;
        EXPECT_TRUE(result->ok());
        EXPECT_EQ(seen, "one two");
        EXPECT_EQ(result->stdout_data, "");
    }

    TEST_F(SandboxRun, Signal_ReachesARunningJob)
    {
        auto process = sandbox->start({ "sleep", "30" });
        ASSERT_TRUE(process);

        ASSERT_TRUE(process->signal(SIGINT));
        auto result = process->wait(5s);

        ASSERT_TRUE(result) << result.error().message;
        EXPECT_EQ(result->status, RunStatus::Signaled);
        EXPECT_EQ(result->signal, SIGINT);
    }

    TEST_F(SandboxRun, WaitWithTimeout_LeavesTheJobRunning)
    {
        auto process = sandbox->start({ "sleep", "30" });
        ASSERT_TRUE(process);

        auto early = process->wait(50ms);
        ASSERT_TRUE(process->kill());
        auto late = process->wait(5s);

        ASSERT_FALSE(early);
        EXPECT_EQ(early.error().kind, ErrorKind::Timeout);
        ASSERT_TRUE(late);
        EXPECT_EQ(late->signal, SIGKILL);
        EXPECT_FALSE(process->signal(0));
    }

    TEST_F(SandboxRun, ConcurrentRunsFromManyThreads_EachGetTheirOwnOutput)
    {
        constexpr int thread_count = 8;
        constexpr int runs_per_thread = 10;
        std::atomic<int> mismatches { 0 };
        std::vector<std::thread> threads;
        for (int t = 0; t < thread_count; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < runs_per_thread; ++i) {
                    auto tag = std::to_string(t) + "-" + std::to_string(i);
                    auto result = sandbox->run({ "echo", tag });
                    if (!result || result->stdout_data != tag + "\n")
                        ++mismatches;
                }
            });
        }
        for (auto& thread : threads)
            thread.join();

        EXPECT_EQ(mismatches.load(), 0);
    }

    TEST_F(SandboxRun, AfterShutdown_CallsFailCleanly)
    {
        auto process = sandbox->start({ "sleep", "30" });
        ASSERT_TRUE(process);

        EXPECT_TRUE(sandbox->shutdown());
        auto result = process->wait(2s);
        auto again = sandbox->run({ "true" });

        ASSERT_FALSE(result);
        EXPECT_EQ(result.error().kind, ErrorKind::AgentDisconnected);
        ASSERT_FALSE(again);
    }

} // namespace
} // namespace husk::sdk_testing
