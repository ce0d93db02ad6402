// AgentServer execs end to end over a socketpair: output, exit codes, signals, spawn errors,
// environment, working directory, rlimits and timeouts, with real programs from the host.
#include "tests/unit/guest-init/agent/agent_test_client.hpp"

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>

namespace husk::agent::testing {
namespace {

    void write_file(std::string const& path, std::string const& content, mode_t mode)
    {
        std::ofstream(path) << content;
        ASSERT_EQ(chmod(path.c_str(), mode), 0);
    }

    using AgentExec = AgentServerTest;

    TEST_F(AgentExec, Echo_SendsOutputThenExitedZero)
    {
        auto& client = connect();
        start();

        client.send(1, exec_of({ "echo", "hello", "world" }));
        auto result = collect_exec(client, 1);

        EXPECT_EQ(result.out, "hello world\n");
        EXPECT_EQ(result.err, "");
        ASSERT_TRUE(result.exited);
        EXPECT_EQ(result.exited->kind, ExitKind::Code);
        EXPECT_EQ(result.exited->value, 0u);
        EXPECT_FALSE(result.exited->stdout_truncated);
        EXPECT_GT(result.exited->duration_us, 0u);
    }

    TEST_F(AgentExec, ExitCodes_AreReported)
    {
        auto& client = connect();
        start();

        client.send(1, shell("exit 0"));
        client.send(2, shell("echo oops >&2; exit 3"));
        client.send(3, shell("exit 255"));
        auto zero = collect_exec(client, 1);
        auto three = collect_exec(client, 2);
        auto max = collect_exec(client, 3);

        ASSERT_TRUE(zero.exited && three.exited && max.exited);
        EXPECT_EQ(zero.exited->value, 0u);
        EXPECT_EQ(three.exited->value, 3u);
        EXPECT_EQ(three.err, "oops\n");
        EXPECT_EQ(max.exited->kind, ExitKind::Code);
        EXPECT_EQ(max.exited->value, 255u);
    }

    TEST_F(AgentExec, DeathBySignal_ReportsTheSignal)
    {
        auto& client = connect();
        start();

        client.send(1, shell("kill -SEGV $$"));
        auto result = collect_exec(client, 1);

        ASSERT_TRUE(result.exited);
        EXPECT_EQ(result.exited->kind, ExitKind::Signal);
        EXPECT_EQ(result.exited->value, static_cast<uint32_t>(SIGSEGV));
    }

    TEST_F(AgentExec, SignalMessage_ReachesTheWholeProcessGroup)
    {
        auto& client = connect();
        start();

        // The shell waits on a child sleep: both are in the job's group and both get SIGTERM.
        client.send(1, shell("echo started; sleep 30; echo not reached"));
        auto started = client.receive(1);
        ASSERT_TRUE(started);
        client.send(1, Signal { SIGTERM });
        auto result = collect_exec(client, 1, 5s);

        ASSERT_TRUE(result.exited);
        EXPECT_EQ(result.exited->kind, ExitKind::Signal);
        EXPECT_EQ(result.exited->value, static_cast<uint32_t>(SIGTERM));
        EXPECT_LT(result.exited->duration_us, 5'000'000u);
    }

    TEST_F(AgentExec, MissingProgram_IsNotFound)
    {
        auto& client = connect();
        start();

        client.send(1, exec_of({ "husk-no-such-program" }));
        client.send(2, exec_of({ temp / "missing" }));
        auto by_name = collect_exec(client, 1);
        auto by_path = collect_exec(client, 2);

        ASSERT_TRUE(by_name.spawn_failed) << describe(by_name);
        EXPECT_EQ(by_name.spawn_failed->error, SpawnError::NotFound);
        EXPECT_NE(by_name.spawn_failed->message.find("husk-no-such-program"), std::string::npos);
        ASSERT_TRUE(by_path.spawn_failed) << describe(by_path);
        EXPECT_EQ(by_path.spawn_failed->error, SpawnError::NotFound);
    }

    TEST_F(AgentExec, FileWithoutExecuteBit_IsPermissionDenied)
    {
        write_file(temp / "script", "#!/bin/sh\necho hi\n", 0644);
        auto& client = connect();
        start();

        client.send(1, exec_of({ temp / "script" }));
        auto result = collect_exec(client, 1);

        ASSERT_TRUE(result.spawn_failed);
        EXPECT_EQ(result.spawn_failed->error, SpawnError::PermissionDenied);
    }

    TEST_F(AgentExec, ExecutableGarbage_IsNotExecutable)
    {
        write_file(temp / "garbage", std::string("\x01\x02\x03 not a program", 18), 0755);
        auto& client = connect();
        start();

        client.send(1, exec_of({ temp / "garbage" }));
        auto result = collect_exec(client, 1);

        ASSERT_TRUE(result.spawn_failed);
        EXPECT_EQ(result.spawn_failed->error, SpawnError::NotExecutable);
    }

    TEST_F(AgentExec, MissingWorkingDirectory_IsBadCwd)
    {
        auto& client = connect();
        start();

        auto exec = exec_of({ "true" });
        exec.cwd = temp / "nowhere";
        client.send(1, exec);
        auto result = collect_exec(client, 1);

        ASSERT_TRUE(result.spawn_failed);
        EXPECT_EQ(result.spawn_failed->error, SpawnError::BadCwd);
        EXPECT_NE(result.spawn_failed->message.find("nowhere"), std::string::npos);
    }

    TEST_F(AgentExec, SpawnFailedId_IsFreeOnceReported)
    {
        auto& client = connect();
        start();

        client.send(7, exec_of({ "husk-no-such-program" }));
        auto first = collect_exec(client, 7);
        client.send(7, exec_of({ "echo", "second" }));
        auto second = collect_exec(client, 7);

        EXPECT_TRUE(first.spawn_failed);
        EXPECT_EQ(second.out, "second\n");
    }

    TEST_F(AgentExec, EnvironmentAndCwd_AreTheRequested)
    {
        auto& client = connect();
        start();

        auto exec = shell("echo \"$GREETING $NAME\"; pwd; echo \"$PATH\"");
        exec.env = { "GREETING=hello", "NAME=first", "NAME=agent" };
        exec.cwd = temp.path();
        client.send(1, exec);
        auto result = collect_exec(client, 1);

        ASSERT_TRUE(result.exited);
        EXPECT_EQ(result.out,
            "hello agent\n" + std::filesystem::canonical(temp.path()).string() + "\n" + std::string(default_job_path)
                + "\n");
    }

    TEST_F(AgentExec, Rlimits_ApplyToTheJob)
    {
        auto& client = connect();
        start();

        auto exec = shell("ulimit -n");
        exec.rlimits = { Rlimit { RlimitResource::Nofile, 64, 64 } };
        client.send(1, exec);
        auto result = collect_exec(client, 1);

        EXPECT_EQ(result.out, "64\n");
    }

    TEST_F(AgentExec, OtherUser_RunsAsThatUserOrIsBadUserWithoutPrivilege)
    {
        auto& client = connect();
        start();
        constexpr uint32_t nobody = 65534;

        auto exec = shell("id -u; id -g; id -G");
        exec.uid = nobody;
        exec.gid = nobody;
        client.send(1, exec);
        auto result = collect_exec(client, 1);

        if (geteuid() == 0) {
            EXPECT_EQ(result.out, "65534\n65534\n65534\n"); // root's groups were dropped
        } else {
            ASSERT_TRUE(result.spawn_failed);
            EXPECT_EQ(result.spawn_failed->error, SpawnError::BadUser);
        }
    }

    TEST_F(AgentExec, JobIgnoringSigterm_IsKilledAtItsTimeout)
    {
        auto& client = connect();
        start();

        auto exec = shell("trap '' TERM; echo ready; sleep 30");
        exec.timeout_ms = 300;
        auto before = std::chrono::steady_clock::now();
        client.send(1, exec);
        auto result = collect_exec(client, 1, 5s);
        auto took = std::chrono::steady_clock::now() - before;

        EXPECT_EQ(result.out, "ready\n");
        ASSERT_TRUE(result.exited);
        EXPECT_EQ(result.exited->kind, ExitKind::TimedOut);
        EXPECT_EQ(result.exited->value, static_cast<uint32_t>(SIGKILL));
        // The sleep child was killed with the group: its open stdout did not hold the Exited back
        // for the drain grace.
        EXPECT_LT(took, 3s);
    }

    TEST_F(AgentExec, BackgroundGrandchildHoldingStdout_DoesNotHangTheExit)
    {
        auto& client = connect();
        start();

        client.send(1, shell("sleep 3 & echo parent done"));
        auto before = std::chrono::steady_clock::now();
        auto result = collect_exec(client, 1, 5s);
        auto took = std::chrono::steady_clock::now() - before;

        EXPECT_EQ(result.out, "parent done\n");
        ASSERT_TRUE(result.exited);
        EXPECT_EQ(result.exited->value, 0u);
        EXPECT_LT(took, 2500ms); // the drain grace (300 ms here), not the grandchild's 3 s
    }

    TEST_F(AgentExec, EightConcurrentExecs_RunInParallel)
    {
        auto& client = connect();
        start();

        auto before = std::chrono::steady_clock::now();
        for (uint32_t id = 1; id <= 8; ++id)
            client.send(id, shell("sleep 0.5; echo " + std::to_string(id)));
        std::vector<ExecResult> results;
        for (uint32_t id = 1; id <= 8; ++id)
            results.push_back(collect_exec(client, id));
        auto took = std::chrono::steady_clock::now() - before;

        for (uint32_t id = 1; id <= 8; ++id) {
            EXPECT_EQ(results[id - 1].out, std::to_string(id) + "\n");
            ASSERT_TRUE(results[id - 1].exited);
            EXPECT_EQ(results[id - 1].exited->value, 0u);
        }
        EXPECT_LT(took, 3s); // 8 × 0.5 s in sequence would be 4 s
    }

    TEST_F(AgentExec, DuplicateLiveId_IsRejectedAndTheFirstJobGoesOn)
    {
        auto& client = connect();
        start();

        auto first = exec_of({ "cat" });
        first.stdin_open = true;
        client.send(5, first);
        client.send(5, exec_of({ "echo", "second" }));
        auto rejected = client.receive(5);
        client.send(5, Stdin { { 'o', 'k' } });
        client.send(5, StdinClose {});
        auto result = collect_exec(client, 5);

        ASSERT_TRUE(rejected);
        auto* error = std::get_if<ErrorReply>(&rejected->message);
        ASSERT_NE(error, nullptr);
        EXPECT_EQ(error->code, ErrorCode::InvalidArgument);
        EXPECT_EQ(result.out, "ok");
        ASSERT_TRUE(result.exited);
    }

    TEST_F(AgentExec, SignalForUnknownId_IsNotFound)
    {
        auto& client = connect();
        start();

        client.send(9, Signal { SIGTERM });
        auto reply = client.receive(9);

        ASSERT_TRUE(reply);
        auto* error = std::get_if<ErrorReply>(&reply->message);
        ASSERT_NE(error, nullptr);
        EXPECT_EQ(error->code, ErrorCode::NotFound);
    }

} // namespace
} // namespace husk::agent::testing
