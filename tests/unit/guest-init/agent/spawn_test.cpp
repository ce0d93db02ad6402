// Tests for guest-init/agent/spawn: the environment merge and the spawn plan (pure), and the
// report pipe read for a real child that fails before execve.
#include "guest-init/agent/spawn.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>

namespace husk::agent {
namespace {

    using protocol::Exec;

    TEST(MergeEnvironment, LaterEntryOverridesAndPathIsAdded)
    {
        auto merged = merge_environment({ "A=1", "B=2", "A=3" }, "/bin");

        EXPECT_EQ(merged, (std::vector<std::string> { "A=3", "B=2", "PATH=/bin" }));
    }

    TEST(MergeEnvironment, GivenPath_IsKept)
    {
        auto merged = merge_environment({ "PATH=/opt/bin" }, "/bin");

        EXPECT_EQ(merged, (std::vector<std::string> { "PATH=/opt/bin" }));
    }

    TEST(PlanSpawn, BareName_IsSearchedInTheJobsPath)
    {
        Exec exec;
        exec.argv = { "tool", "--flag" };
        exec.env = { "PATH=/opt/bin:/usr/bin" };

        auto plan = plan_spawn(exec, SpawnDefaults { "/bin", "/" });

        EXPECT_EQ(plan.candidates, (std::vector<std::string> { "/opt/bin/tool", "/usr/bin/tool" }));
        EXPECT_EQ(plan.argv, exec.argv);
    }

    TEST(PlanSpawn, EmptyCwdAndNoStdin_UseTheDefaults)
    {
        Exec exec;
        exec.argv = { "/bin/true" };

        auto plan = plan_spawn(exec, SpawnDefaults { "/bin", "/srv" });

        EXPECT_EQ(plan.cwd, "/srv");
        EXPECT_EQ(plan.stdin_mode, StdinMode::DevNull);
        EXPECT_EQ(plan.candidates, (std::vector<std::string> { "/bin/true" }));
    }

    TEST(PlanSpawn, StdinOpenAndCwd_AreTaken)
    {
        Exec exec;
        exec.argv = { "cat" };
        exec.cwd = "/srv/app";
        exec.stdin_open = true;

        auto plan = plan_spawn(exec, SpawnDefaults { "/bin", "/" });

        EXPECT_EQ(plan.cwd, "/srv/app");
        EXPECT_EQ(plan.stdin_mode, StdinMode::Pipe);
    }

    TEST(SpawnErrorFromExecErrno, MapsLikeTheOneShotJob)
    {
        EXPECT_EQ(spawn_error_from_exec_errno(ENOENT), protocol::SpawnError::NotFound);
        EXPECT_EQ(spawn_error_from_exec_errno(EACCES), protocol::SpawnError::PermissionDenied);
        EXPECT_EQ(spawn_error_from_exec_errno(ENOEXEC), protocol::SpawnError::NotExecutable);
        EXPECT_EQ(spawn_error_from_exec_errno(E2BIG), protocol::SpawnError::Other);
    }

    TEST(StartProcess, BadCwd_ComesBackThroughTheReportPipe)
    {
        Exec exec;
        exec.argv = { "/bin/true" };
        exec.cwd = "/husk-no-such-directory";
        auto plan = plan_spawn(exec, SpawnDefaults { "/bin", "/" });

        auto process = start_process(plan);
        ASSERT_TRUE(process) << process.error().message;
        int status = 0;
        ASSERT_EQ(waitpid(process->pid, &status, 0), process->pid);
        auto report = read_spawn_report(process->report_pipe.get(), plan, ChildState::Reaped);

        EXPECT_EQ(report.status, ReportStatus::Failed);
        EXPECT_EQ(report.failure.error, protocol::SpawnError::BadCwd);
        EXPECT_NE(report.failure.message.find("/husk-no-such-directory"), std::string::npos);
    }

    TEST(StartProcess, SuccessfulExec_ReportsSucceeded)
    {
        Exec exec;
        exec.argv = { "/bin/true" };
        auto plan = plan_spawn(exec, SpawnDefaults { "/bin", "/" });

        auto process = start_process(plan);
        ASSERT_TRUE(process) << process.error().message;
        int status = 0;
        ASSERT_EQ(waitpid(process->pid, &status, 0), process->pid);
        auto report = read_spawn_report(process->report_pipe.get(), plan, ChildState::Reaped);

        EXPECT_EQ(report.status, ReportStatus::Succeeded);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

} // namespace
} // namespace husk::agent
