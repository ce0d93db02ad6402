// wait_process_for: a process that ends in time is reaped with its wait status; one that does not
// is killed and reaped, so a hung VM fails a benchmark instead of stalling it.
#include "bench/common/peer_vm.hpp"

#include <cerrno>
#include <gtest/gtest.h>
#include <sys/wait.h>

namespace husk::bench {
namespace {

    TEST(PeerVmWaitProcessFor, ProcessEndingInTime_GivesItsStatus)
    {
        pid_t pid = spawn_process({ "sh", "-c", "exit 3" }, "/dev/null");
        ASSERT_GT(pid, 0);
        auto status = wait_process_for(pid, std::chrono::seconds(30));
        ASSERT_TRUE(status.has_value());
        ASSERT_TRUE(WIFEXITED(*status));
        EXPECT_EQ(WEXITSTATUS(*status), 3);
    }

    TEST(PeerVmWaitProcessFor, ProcessPastItsLimit_IsKilledAndReaped)
    {
        auto start = std::chrono::steady_clock::now();
        pid_t pid = spawn_process({ "sleep", "60" }, "/dev/null");
        ASSERT_GT(pid, 0);
        EXPECT_FALSE(wait_process_for(pid, std::chrono::milliseconds(200)).has_value());
        // Killed, not waited out: far less than the 60 s the process would have taken.
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
        // Reaped: nothing of that pid is left to wait for.
        errno = 0;
        EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
        EXPECT_EQ(errno, ECHILD);
    }

} // namespace
} // namespace husk::bench
