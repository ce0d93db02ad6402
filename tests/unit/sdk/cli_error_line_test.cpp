// The CLI's one-line errors and its boot progress lines.
#include "sdk/cli/boot_progress.hpp"
#include "sdk/cli/error_line.hpp"

#include <gtest/gtest.h>
#include <thread>

namespace husk::cli {
namespace {

    TEST(ErrorLine, OneLineMessage_IsKept)
    {
        EXPECT_EQ(one_line("memory must be 32 MiB..64 GiB"), "memory must be 32 MiB..64 GiB");
    }

    TEST(ErrorLine, VmmLogLines_KeepFirstAndLast)
    {
        auto line = one_line("husk-vmm exited with status 1 during boot; husk-vmm's last log lines:\n"
                             "  husk-vmm: starting\n  husk-vmm: /dev/kvm: permission denied");
        EXPECT_EQ(line,
            "husk-vmm exited with status 1 during boot; husk-vmm's last log lines: husk-vmm: /dev/kvm: "
            "permission denied (--verbose shows more)");
        EXPECT_EQ(line.find('\n'), std::string::npos);
    }

    TEST(ErrorLine, BlankLastLine_LeavesTheFirst)
    {
        EXPECT_EQ(one_line("it broke\n   "), "it broke (--verbose shows more)");
    }

    TEST(BootProgress, QuickBoot_SaysNothing)
    {
        ::testing::internal::CaptureStderr();
        {
            BootProgress progress(true, "1 vCPU, 256 MiB");
            progress.finish();
        }
        EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
    }

    TEST(BootProgress, SlowBoot_SaysWhatAndHowLong)
    {
        ::testing::internal::CaptureStderr();
        {
            BootProgress progress(true, "1 vCPU, 256 MiB");
            std::this_thread::sleep_for(BootProgress::quiet_period + std::chrono::milliseconds(200));
        }
        auto said = ::testing::internal::GetCapturedStderr();
        EXPECT_NE(said.find("husk: booting the VM (1 vCPU, 256 MiB)...\n"), std::string::npos) << said;
        EXPECT_NE(said.find("husk: the VM was up after 1."), std::string::npos) << said;
    }

    TEST(BootProgress, Disabled_SaysNothingEvenWhenSlow)
    {
        ::testing::internal::CaptureStderr();
        {
            BootProgress progress(false, "x");
            std::this_thread::sleep_for(BootProgress::quiet_period + std::chrono::milliseconds(100));
        }
        EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
    }

    TEST(BootProgress, QuietAlwaysWins)
    {
        EXPECT_FALSE(progress_wanted(true, true));
        EXPECT_TRUE(progress_wanted(false, true));
    }

} // namespace
} // namespace husk::cli
