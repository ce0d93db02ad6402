// Lab: the job's exit code, death by signal and spawn failures travel back to the host in the
// VMM's report (never as the VMM's own exit status, which stays 0 for a clean guest shutdown).
#include "tests/lab/vmm_process.hpp"

#include <gtest/gtest.h>

using namespace husk::lab;

namespace {
std::string describe(VmmRun const& run)
{
    return "exit " + std::to_string(run.exit_status) + "\nreport: " + run.report + "\nstderr:\n" + run.err;
}
} // namespace

class LabExitCode : public testing::TestWithParam<int> { };

TEST_P(LabExitCode, JobExitCode_ReachesHost)
{
    int code = GetParam();
    auto run = run_vmm({ "--", "sh", "-c", "exit " + std::to_string(code) });
    ASSERT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_EQ(json_number(run.report, "exit_code"), code) << describe(run);
}

INSTANTIATE_TEST_SUITE_P(Codes, LabExitCode, testing::Values(0, 3, 255));

TEST(LabExitStatus, JobKilledBySignal_ReportsSignal)
{
    auto run = run_vmm({ "--", "sh", "-c", "kill -9 $$" });
    ASSERT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_EQ(json_number(run.report, "signal"), 9) << describe(run);
    EXPECT_FALSE(json_number(run.report, "exit_code").has_value()) << describe(run);
}

TEST(LabExitStatus, MissingProgram_ReportsNotFound)
{
    auto run = run_vmm({ "--", "/no/such/program" });
    ASSERT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_EQ(json_field(run.report, "spawn_error"), "not-found") << describe(run);
}
