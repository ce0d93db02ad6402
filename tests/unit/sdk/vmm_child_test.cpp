// VmmChild::spawn (a vfork-style clone, then exec): the program runs with its arguments and its
// exit is seen; a missing program is VmmStartFailed; signals the host program ignores or handles
// are at their defaults in the child.
#include "sdk/src/vmm_child.hpp"
#include "sdk/src/temp_dir.hpp"

#include <csignal>
#include <gtest/gtest.h>

namespace husk::detail {
namespace {

    using namespace std::chrono_literals;

    void on_usr1(int) { }

    TEST(VmmChild, Spawn_RunsTheProgram_ExitStatusSeen)
    {
        auto directory = TempDir::create();
        ASSERT_TRUE(directory);
        auto child = VmmChild::spawn({ "/bin/sh", "-c", "echo started; exit 7" }, *directory / "log");
        ASSERT_TRUE(child) << child.error().message;

        ASSERT_TRUE(child->wait_exit(10s));
        auto exit = child->peek_exit();
        ASSERT_TRUE(exit);
        EXPECT_FALSE(exit->signaled);
        EXPECT_EQ(exit->value, 7);
        EXPECT_EQ(last_lines(*directory / "log", 1), std::vector<std::string> { "started" });
    }

    TEST(VmmChild, Spawn_MissingProgram_IsVmmStartFailedNamingIt)
    {
        auto directory = TempDir::create();
        ASSERT_TRUE(directory);
        auto child = VmmChild::spawn({ "/nonexistent/husk-vmm" }, *directory / "log");

        ASSERT_FALSE(child);
        EXPECT_EQ(child.error().kind, ErrorKind::VmmStartFailed);
        EXPECT_NE(child.error().message.find("/nonexistent/husk-vmm"), std::string::npos) << child.error().message;
    }

    TEST(VmmChild, Spawn_SignalsIgnoredOrHandledHere_AreDefaultInTheChild)
    {
        // A shell cannot undo a signal ignored when it started: SIGTERM ignored here would survive
        // into the child if spawn did not reset it.
        auto previous_term = ::signal(SIGTERM, SIG_IGN);
        auto previous_usr1 = ::signal(SIGUSR1, on_usr1);
        auto directory = TempDir::create();
        ASSERT_TRUE(directory);
        auto child = VmmChild::spawn({ "/bin/sh", "-c", "kill -TERM $$; exit 0" }, *directory / "log");
        ::signal(SIGTERM, previous_term);
        ::signal(SIGUSR1, previous_usr1);
        ASSERT_TRUE(child) << child.error().message;

        ASSERT_TRUE(child->wait_exit(10s));
        auto exit = child->peek_exit();
        ASSERT_TRUE(exit);
        EXPECT_TRUE(exit->signaled);
        EXPECT_EQ(exit->value, SIGTERM);
    }

} // namespace
} // namespace husk::detail
