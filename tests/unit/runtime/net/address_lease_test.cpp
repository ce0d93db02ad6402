// Tests for runtime/net/address_lease: lock files in a private temporary directory.
#include "runtime/net/address_lease.hpp"

#include "runtime/net/sandbox_addresses.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <set>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace husk;

namespace {
class AddressLeaseTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char pattern[] = "/tmp/husk-lease-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        m_directory = std::string(pattern) + "/net";
    }
    void TearDown() override { std::filesystem::remove_all(std::filesystem::path(m_directory).parent_path()); }
    std::string m_directory;
};
} // namespace

TEST_F(AddressLeaseTest, Claim_TwoLeases_GetDifferentSlots)
{
    auto first = AddressLease::claim(m_directory, 5, "a");
    ASSERT_TRUE(first) << first.error().message;
    auto second = AddressLease::claim(m_directory, 5, "b");
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(first->slot(), 5u);
    EXPECT_EQ(second->slot(), 6u);
    struct stat info { };
    ASSERT_EQ(::stat(m_directory.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0700u);
}

TEST_F(AddressLeaseTest, Claim_LastSlotTaken_WrapsAround)
{
    auto last = AddressLease::claim(m_directory, sandbox_slot_count - 1, "a");
    ASSERT_TRUE(last);
    auto next = AddressLease::claim(m_directory, sandbox_slot_count - 1, "b");
    ASSERT_TRUE(next);
    EXPECT_EQ(next->slot(), 0u);
}

TEST_F(AddressLeaseTest, Release_FreesTheSlotAndRemovesItsFile)
{
    {
        auto lease = AddressLease::claim(m_directory, 3, "a");
        ASSERT_TRUE(lease);
        EXPECT_TRUE(std::filesystem::exists(m_directory + "/slot-3"));
    }
    EXPECT_FALSE(std::filesystem::exists(m_directory + "/slot-3"));
    auto again = AddressLease::claim(m_directory, 3, "b");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->slot(), 3u);
}

TEST_F(AddressLeaseTest, HolderInAnotherProcess_BlocksTheSlotUntilItDies)
{
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t child = ::fork();
    if (child == 0) {
        auto lease = AddressLease::claim(m_directory, 7, "child");
        if (::write(ready[1], lease ? "y" : "n", 1) != 1)
            ::_exit(1);
        ::pause();
        ::_exit(0);
    }
    char answer = 0;
    ASSERT_EQ(::read(ready[0], &answer, 1), 1);
    ASSERT_EQ(answer, 'y');
    auto abandoned = AddressLease::claim_if_abandoned(m_directory, 7);
    ASSERT_TRUE(abandoned);
    EXPECT_FALSE(abandoned->held());
    auto other = AddressLease::claim(m_directory, 7, "parent");
    ASSERT_TRUE(other);
    EXPECT_EQ(other->slot(), 8u);

    ::kill(child, SIGKILL); // like kill -9 of a launcher: the file stays, its lock goes
    ::waitpid(child, nullptr, 0);
    ::close(ready[0]);
    ::close(ready[1]);
    EXPECT_TRUE(std::filesystem::exists(m_directory + "/slot-7"));
    auto reaped = AddressLease::claim_if_abandoned(m_directory, 7);
    ASSERT_TRUE(reaped);
    EXPECT_TRUE(reaped->held());
    EXPECT_FALSE(AddressLease::claim_if_abandoned(m_directory, 9)->held()); // no file: nothing to reap
}

TEST_F(AddressLeaseTest, Directory_WritableByOthers_IsRefused)
{
    ASSERT_EQ(::mkdir(m_directory.c_str(), 0700), 0);
    ASSERT_EQ(::chmod(m_directory.c_str(), 0777), 0);
    EXPECT_FALSE(AddressLease::claim(m_directory, 0, "a"));
}

TEST_F(AddressLeaseTest, LockFileSymlink_IsRefused)
{
    ASSERT_EQ(::mkdir(m_directory.c_str(), 0700), 0);
    ASSERT_EQ(::symlink("/etc/passwd", (m_directory + "/slot-0").c_str()), 0);
    auto lease = AddressLease::claim(m_directory, 0, "a");
    EXPECT_FALSE(lease);
}

TEST_F(AddressLeaseTest, ConcurrentClaimers_NeverShareASlot)
{
    constexpr int claimers = 12;
    int results[2];
    int release[2];
    ASSERT_EQ(::pipe(results), 0);
    ASSERT_EQ(::pipe(release), 0);
    std::vector<pid_t> children;
    for (int i = 0; i < claimers; ++i) {
        pid_t child = ::fork();
        if (child == 0) {
            ::close(release[1]);
            // All start from the same first choice, the worst case for collisions.
            auto lease = AddressLease::claim(m_directory, 40, "child");
            uint32_t slot = lease ? lease->slot() : ~0u;
            if (::write(results[1], &slot, sizeof slot) != sizeof slot)
                ::_exit(1);
            char wait = 0;
            // Holds the lease until the parent has seen them all (its byte or its end).
            ::_exit(::read(release[0], &wait, 1) >= 0 ? 0 : 1);
        }
        children.push_back(child);
    }
    ::close(release[0]);
    std::set<uint32_t> slots;
    for (int i = 0; i < claimers; ++i) {
        uint32_t slot = ~0u;
        ASSERT_EQ(::read(results[0], &slot, sizeof slot), static_cast<ssize_t>(sizeof slot));
        ASSERT_NE(slot, ~0u) << "a claim failed";
        EXPECT_TRUE(slots.insert(slot).second) << "slot " << slot << " handed out twice";
    }
    ::close(release[1]);
    for (pid_t child : children)
        ::waitpid(child, nullptr, 0);
    ::close(results[0]);
    ::close(results[1]);
    EXPECT_EQ(slots.size(), static_cast<size_t>(claimers));
}
