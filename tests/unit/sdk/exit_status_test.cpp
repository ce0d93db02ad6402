// The docker exit-status convention for every way a job can end.
#include "husk/exit_status.hpp"

#include <csignal>
#include <gtest/gtest.h>

namespace husk {
namespace {

    RunResult exited(int code)
    {
        RunResult result;
        result.status = RunStatus::Exited;
        result.exit_code = code;
        return result;
    }

    RunResult ended_by(RunStatus status, int signal)
    {
        RunResult result;
        result.status = status;
        result.signal = signal;
        return result;
    }

    RunResult spawn_failed(SpawnErrorKind kind)
    {
        RunResult result;
        result.status = RunStatus::SpawnFailed;
        result.spawn_error = kind;
        return result;
    }

    TEST(DockerExitStatus, Exited_IsTheJobsOwnCode)
    {
        EXPECT_EQ(docker_exit_status(exited(0)), 0);
        EXPECT_EQ(docker_exit_status(exited(3)), 3);
        EXPECT_EQ(docker_exit_status(exited(255)), 255);
    }

    TEST(DockerExitStatus, Signal_Is128PlusTheSignal)
    {
        EXPECT_EQ(docker_exit_status(ended_by(RunStatus::Signaled, SIGKILL)), 137);
        EXPECT_EQ(docker_exit_status(ended_by(RunStatus::Signaled, SIGTERM)), 143);
        EXPECT_EQ(docker_exit_status(ended_by(RunStatus::TimedOut, SIGKILL)), 137);
    }

    TEST(DockerExitStatus, SpawnFailures_Are127And126And125)
    {
        EXPECT_EQ(docker_exit_status(spawn_failed(SpawnErrorKind::NotFound)), 127);
        EXPECT_EQ(docker_exit_status(spawn_failed(SpawnErrorKind::NotExecutable)), 126);
        EXPECT_EQ(docker_exit_status(spawn_failed(SpawnErrorKind::BadWorkdir)), 125);
        EXPECT_EQ(docker_exit_status(spawn_failed(SpawnErrorKind::Other)), 125);
    }

    TEST(DockerExitStatus, ImpossibleValues_AreRuntimeErrors)
    {
        EXPECT_EQ(docker_exit_status(exited(-1)), 125);
        EXPECT_EQ(docker_exit_status(exited(256)), 125);
        EXPECT_EQ(docker_exit_status(ended_by(RunStatus::Signaled, 0)), 125);
        EXPECT_EQ(docker_exit_status(ended_by(RunStatus::Signaled, 200)), 125);
    }

} // namespace
} // namespace husk
