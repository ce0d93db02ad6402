// CaseWatchdog, in the hostile suite's binary: a test that outlives the limit ends the process
// with a FAILED line naming it.
#include "tests/lab/case_watchdog.hpp"

#include <gtest/gtest.h>
#include <thread>

using namespace husk::lab;
using namespace std::chrono_literals;

TEST(CaseWatchdog, EndsAHungTestNamingIt)
{
    // "fast" (fork only): "threadsafe" would run main() again in the child, the suite's network
    // setup and list run included. The child needs none of the parent's threads.
    GTEST_FLAG_SET(death_test_style, "fast");
    EXPECT_EXIT(
        {
            CaseWatchdog watchdog(1s);
            watchdog.OnTestStart(*::testing::UnitTest::GetInstance()->current_test_info());
            std::this_thread::sleep_for(30s);
        },
        ::testing::ExitedWithCode(1), "FAILED  \\] CaseWatchdog.EndsAHungTestNamingIt \\(hung");
}

TEST(CaseWatchdog, LeavesATestThatEndsInTime)
{
    CaseWatchdog watchdog(1s);
    auto const& test = *::testing::UnitTest::GetInstance()->current_test_info();
    watchdog.OnTestStart(test);
    watchdog.OnTestEnd(test);
    std::this_thread::sleep_for(1500ms); // past the limit, disarmed: the process goes on
    SUCCEED();
}
