// Halt detection: which samples count as stuck, and the two-in-a-row rule.
#include "runtime/vmm/halt_detector.hpp"

#include <gtest/gtest.h>
#include <linux/kvm.h>
#include <vector>

using namespace husk;

namespace {
std::optional<VcpuActivity> halted(bool interrupts_enabled = false)
{
    return VcpuActivity { KVM_MP_STATE_HALTED, interrupts_enabled };
}
std::optional<VcpuActivity> running() { return VcpuActivity { KVM_MP_STATE_RUNNABLE, true }; }
std::optional<VcpuActivity> waiting_for_sipi() { return VcpuActivity { KVM_MP_STATE_INIT_RECEIVED, false }; }
} // namespace

TEST(AllVcpusStuck, HaltedWithInterruptsOff_IsStuck)
{
    std::vector sample { halted(), halted() };
    EXPECT_TRUE(all_vcpus_stuck(sample));
}

TEST(AllVcpusStuck, HaltedWithInterruptsOn_IsNotStuck)
{
    std::vector sample { halted(), halted(true) };
    EXPECT_FALSE(all_vcpus_stuck(sample));
}

TEST(AllVcpusStuck, OneRunning_IsNotStuck)
{
    std::vector sample { halted(), running() };
    EXPECT_FALSE(all_vcpus_stuck(sample));
}

TEST(AllVcpusStuck, MissingAnswer_CountsAsRunning)
{
    std::vector<std::optional<VcpuActivity>> sample { halted(), std::nullopt };
    EXPECT_FALSE(all_vcpus_stuck(sample));
}

TEST(AllVcpusStuck, ApWaitingForSipiBesideHaltedBsp_IsStuck)
{
    std::vector sample { halted(), waiting_for_sipi() };
    EXPECT_TRUE(all_vcpus_stuck(sample));
}

TEST(AllVcpusStuck, OnlyWaitingAps_IsNotStuck)
{
    std::vector sample { waiting_for_sipi() };
    EXPECT_FALSE(all_vcpus_stuck(sample));
    EXPECT_FALSE(all_vcpus_stuck(std::span<std::optional<VcpuActivity> const> {}));
}

TEST(HaltDetector, TwoStuckSamplesInARow_Fire)
{
    HaltDetector detector;
    std::vector stuck { halted() };
    std::vector busy { running() };
    EXPECT_FALSE(detector.observe(stuck));
    EXPECT_FALSE(detector.observe(busy)); // streak broken
    EXPECT_FALSE(detector.observe(stuck));
    EXPECT_TRUE(detector.observe(stuck));
}
