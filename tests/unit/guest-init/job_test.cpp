// Tests for guest-init/job: errno and wait-status mappings, the PATH search, and spawn/wait run
// for real on the host (fork/exec of ordinary programs, no privileges).
#include "guest-init/job.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace husk::init;

TEST(SpawnErrorFromErrno, ExecErrors_MapToDockerClasses)
{
    EXPECT_EQ(spawn_error_from_errno(ENOENT), SpawnError::NotFound);
    EXPECT_EQ(spawn_error_from_errno(ENOTDIR), SpawnError::NotFound);
    EXPECT_EQ(spawn_error_from_errno(EACCES), SpawnError::PermissionDenied);
    EXPECT_EQ(spawn_error_from_errno(ENOEXEC), SpawnError::NotExecutable);
    EXPECT_EQ(spawn_error_from_errno(E2BIG), SpawnError::Other);
    EXPECT_EQ(spawn_error_from_errno(0), SpawnError::Other);
}

TEST(OutcomeFromWaitStatus, Exit_ReportsCode)
{
    EXPECT_EQ(outcome_from_wait_status(W_EXITCODE(0, 0)), JobOutcome::exited(0));
    EXPECT_EQ(outcome_from_wait_status(W_EXITCODE(255, 0)), JobOutcome::exited(255));
}

TEST(OutcomeFromWaitStatus, Signal_ReportsSignalNumber)
{
    EXPECT_EQ(outcome_from_wait_status(W_EXITCODE(0, SIGKILL)), JobOutcome::signaled(SIGKILL));
    EXPECT_EQ(outcome_from_wait_status(W_EXITCODE(0, SIGSEGV) | WCOREFLAG), JobOutcome::signaled(SIGSEGV));
}

TEST(OutcomeFromWaitStatus, StopOrContinue_IsNoOutcome)
{
    EXPECT_EQ(outcome_from_wait_status(W_STOPCODE(SIGSTOP)), std::nullopt);
    EXPECT_EQ(outcome_from_wait_status(__W_CONTINUED), std::nullopt);
}

TEST(ExecCandidates, NameWithSlash_IsTriedAsIs)
{
    EXPECT_EQ(exec_candidates("./run", "/bin"), (std::vector<std::string> { "./run" }));
    EXPECT_EQ(exec_candidates("/bin/sh", "/usr/bin:/bin"), (std::vector<std::string> { "/bin/sh" }));
}

TEST(ExecCandidates, BareName_SearchesPathInOrder)
{
    EXPECT_EQ(exec_candidates("ls", "/usr/bin:/bin"), (std::vector<std::string> { "/usr/bin/ls", "/bin/ls" }));
    EXPECT_EQ(exec_candidates("ls", "/a::/b:"), (std::vector<std::string> { "/a/ls", "ls", "/b/ls", "ls" }));
    EXPECT_TRUE(exec_candidates("", "/bin").empty());
}

TEST(ExecErrorFold, MissingEverywhere_IsEnoent)
{
    ExecErrorFold fold;
    EXPECT_EQ(fold.record(ENOENT), ExecErrorFold::Next::TryNextCandidate);
    EXPECT_EQ(fold.record(ENOENT), ExecErrorFold::Next::TryNextCandidate);
    EXPECT_EQ(fold.result(), ENOENT);
}

TEST(ExecErrorFold, PermissionDeniedThenMissing_IsEacces)
{
    ExecErrorFold fold;
    fold.record(EACCES);
    fold.record(ENOENT);
    EXPECT_EQ(fold.result(), EACCES);
}

TEST(ExecErrorFold, NotExecutable_StopsTheSearch)
{
    ExecErrorFold fold;
    fold.record(ENOENT);
    EXPECT_EQ(fold.record(ENOEXEC), ExecErrorFold::Next::Stop);
    EXPECT_EQ(fold.result(), ENOEXEC);
}

class SpawnJobTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string pattern = ::testing::TempDir() + "husk-init-job-test-XXXXXX";
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        m_directory = pattern;
    }
    void TearDown() override
    {
        for (auto const& file : m_files)
            unlink(file.c_str());
        rmdir(m_directory.c_str());
    }
    std::string make_file(char const* name, std::string const& contents, mode_t mode)
    {
        std::string path = m_directory + "/" + name;
        int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        EXPECT_GE(fd, 0);
        EXPECT_EQ(write(fd, contents.data(), contents.size()), static_cast<ssize_t>(contents.size()));
        close(fd);
        chmod(path.c_str(), mode);
        m_files.push_back(path);
        return path;
    }
    JobOutcome run(std::vector<std::string> const& argv)
    {
        auto pid = spawn_job(argv);
        if (!pid)
            return JobOutcome::spawn_failed(spawn_error_from_errno(pid.error().errno_value));
        auto outcome = wait_for_job(*pid);
        EXPECT_TRUE(outcome.has_value());
        return outcome ? *outcome : JobOutcome::spawn_failed(SpawnError::Other);
    }

    std::string m_directory;
    std::vector<std::string> m_files;
};

TEST_F(SpawnJobTest, ProgramExits_ReportsItsCode) { EXPECT_EQ(run({ "sh", "-c", "exit 42" }), JobOutcome::exited(42)); }

TEST_F(SpawnJobTest, ProgramKilled_ReportsSignal)
{
    EXPECT_EQ(run({ "sh", "-c", "kill -TERM $$" }), JobOutcome::signaled(SIGTERM));
}

TEST_F(SpawnJobTest, JobRunsInItsOwnSession)
{
    // `ps`-free check: the job's session id equals its own pid when it leads its session.
    EXPECT_EQ(run({ "sh", "-c", "test \"$(cut -d' ' -f6 /proc/$$/stat)\" = \"$$\"" }), JobOutcome::exited(0));
}

TEST_F(SpawnJobTest, MissingProgram_IsNotFound)
{
    EXPECT_EQ(run({ "husk-no-such-program-anywhere" }), JobOutcome::spawn_failed(SpawnError::NotFound));
    EXPECT_EQ(run({ m_directory + "/absent" }), JobOutcome::spawn_failed(SpawnError::NotFound));
}

TEST_F(SpawnJobTest, FileWithoutExecuteBit_IsPermissionDenied)
{
    auto path = make_file("plain", "#!/bin/sh\nexit 0\n", 0644);
    EXPECT_EQ(run({ path }), JobOutcome::spawn_failed(SpawnError::PermissionDenied));
}

TEST_F(SpawnJobTest, ExecutableGarbage_IsNotExecutable)
{
    auto path = make_file("garbage", std::string("\x01\x02\x03 not a program\n"), 0755);
    EXPECT_EQ(run({ path }), JobOutcome::spawn_failed(SpawnError::NotExecutable));
}

TEST_F(SpawnJobTest, EmptyArgv_Fails)
{
    auto pid = spawn_job({});
    ASSERT_FALSE(pid.has_value());
    EXPECT_EQ(spawn_error_from_errno(pid.error().errno_value), SpawnError::Other);
}

TEST_F(SpawnJobTest, OrphansExitingFirst_AreReapedAndJobStillReported)
{
    // The orphan here is a child of the job's shell; what matters is that wait_for_job ignores
    // other children of the caller that end before the job.
    pid_t other = fork();
    ASSERT_GE(other, 0);
    if (other == 0)
        _exit(7);
    EXPECT_EQ(run({ "sh", "-c", "sleep 0.1; exit 3" }), JobOutcome::exited(3));
    EXPECT_EQ(waitpid(other, nullptr, WNOHANG), -1); // already reaped by wait_for_job
}
