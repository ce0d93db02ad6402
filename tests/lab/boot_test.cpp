// Lab: husk-vmm boots our Linux kernel on real KVM to husk-init and the job's output reaches the
// host; every way a guest stops is detected and reported.
#include "tests/lab/vmm_process.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace husk::lab;
using namespace std::chrono_literals;

namespace {
std::string describe(VmmRun const& run)
{
    return "exit " + std::to_string(run.exit_status) + "\nreport: " + run.report + "\nstdout:\n" + run.out
        + "\nstderr:\n" + run.err;
}
} // namespace

TEST(LabBoot, UnameInGuest_PrintsOurKernelRelease)
{
    auto run = run_vmm({ "--serial", "stdout", "--", "uname", "-r" });
    ASSERT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_NE(run.out.find("6.1."), std::string::npos) << describe(run);
    EXPECT_EQ(json_field(run.report, "stop_reason"), "guest-shutdown") << describe(run);
    EXPECT_EQ(json_number(run.report, "exit_code"), 0) << describe(run);
    EXPECT_GT(json_number(run.report, "boot_to_init_us").value_or(0), 0) << describe(run);
}

TEST(LabBoot, TwoVcpus_GuestSeesTwoCpus)
{
    auto run = run_vmm({ "--vcpus", "2", "--serial", "stdout", "--", "sh", "-c", "echo cpus=$(nproc)." });
    ASSERT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_NE(run.out.find("cpus=2."), std::string::npos) << describe(run);
}

TEST(LabBoot, ArithmeticInGuest_ComputedInsideTheVm)
{
    auto run = run_vmm({ "--serial", "stdout", "--", "sh", "-c", "echo result=$((6*7)) cpus=$(nproc)" });
    ASSERT_EQ(run.exit_status, 0) << describe(run);
    EXPECT_NE(run.out.find("result=42 cpus=1"), std::string::npos) << describe(run);
}

TEST(LabBoot, GuestPanic_EndsVmAsCrashWithinTwoSeconds)
{
    auto run = run_vmm({ "--cmdline", "husk.test_crash=panic", "--", "true" });
    EXPECT_EQ(run.exit_status, 3) << describe(run);
    EXPECT_EQ(json_field(run.report, "stop_reason"), "guest-crashed") << describe(run);
    auto total = json_number(run.report, "total_us");
    auto setup = json_number(run.report, "setup_us");
    auto boot = json_number(run.report, "boot_to_init_us");
    ASSERT_TRUE(total && setup && boot) << describe(run);
    // From init start (which dies at once) to the VMM noticing the stop.
    EXPECT_LT(*total - *setup - *boot, 2'000'000) << describe(run);
}

TEST(LabBoot, GuestSpinningForever_StoppedByHostTimeout)
{
    auto run = run_vmm({ "--timeout", "5s", "--", "sh", "-c", "while :; do :; done" }, 60s);
    EXPECT_FALSE(run.killed_by_test) << describe(run);
    EXPECT_EQ(run.exit_status, 4) << describe(run);
    EXPECT_EQ(json_field(run.report, "stop_reason"), "timeout") << describe(run);
}

TEST(LabBoot, GuestPowerOffWithoutAcpi_DetectedAsHalted)
{
    auto run = run_vmm({ "--timeout", "60s", "--", "poweroff", "-f" }, 90s);
    EXPECT_EQ(run.exit_status, 3) << describe(run);
    EXPECT_EQ(json_field(run.report, "stop_reason"), "guest-halted") << describe(run);
}

TEST(LabBoot, CorruptKernel_RefusedWithClearError)
{
    std::string path = "/tmp/husk-lab-corrupt-kernel";
    {
        std::ofstream file(path, std::ios::binary);
        file << "\x7f" "ELF this is not a kernel";
    }
    auto run = run_vmm({ "--kernel", path, "--initrd", guest_initramfs(), "--", "true" }, 30s, false);
    unlink(path.c_str());
    EXPECT_EQ(run.exit_status, 1) << describe(run);
    EXPECT_NE(run.err.find("kernel"), std::string::npos) << describe(run);
}
