// Jail uid/gid allocation: lock files in a private directory, flock()ed while an id is held.
#include "tests/unit/testing/scratch_dir.hpp"
#include "sdk/src/jail_ids.hpp"
#include "sdk/src/private_directory.hpp"

#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace husk::detail {
namespace {

    constexpr JailIdRange small_range { 5000, 3 };

    class JailIdsTest : public ::testing::Test {
    protected:
        Fd ids()
        {
            auto directory = open_private_directory(base, "husk/ids", 0700);
            EXPECT_TRUE(directory) << directory.error().message;
            return directory ? std::move(*directory) : Fd();
        }

        test_support::ScratchDir scratch { "husk-jail-ids-test" };
        std::string const base { scratch.path() };
    };

    TEST_F(JailIdsTest, TwoAllocations_Differ)
    {
        auto directory = ids();

        auto first = allocate_jail_id(directory, small_range);
        auto second = allocate_jail_id(directory, small_range);

        ASSERT_TRUE(first) << first.error().message;
        ASSERT_TRUE(second) << second.error().message;
        EXPECT_NE(first->id(), second->id());
        EXPECT_GE(first->id(), small_range.first);
        EXPECT_LT(second->id(), small_range.first + small_range.count);
    }

    TEST_F(JailIdsTest, HeldId_IsReusedOnlyAfterRelease)
    {
        auto directory = ids();
        auto first = allocate_jail_id(directory, small_range);
        ASSERT_TRUE(first);
        uint32_t id = first->id();

        auto while_held = allocate_jail_id(directory, small_range);
        first->release();
        auto after_release = allocate_jail_id(directory, small_range);

        ASSERT_TRUE(while_held);
        ASSERT_TRUE(after_release);
        EXPECT_NE(while_held->id(), id);
        EXPECT_EQ(after_release->id(), id);
    }

    TEST_F(JailIdsTest, Release_RemovesTheLockFile)
    {
        auto directory = ids();
        auto lease = allocate_jail_id(directory, small_range);
        ASSERT_TRUE(lease);
        auto path = base + "/husk/ids/" + std::to_string(lease->id());
        EXPECT_TRUE(std::filesystem::exists(path));

        lease->release();

        EXPECT_FALSE(std::filesystem::exists(path));
    }

    TEST_F(JailIdsTest, LockHeldByAnotherProcess_IsSkipped)
    {
        auto directory = ids();
        auto path = base + "/husk/ids/" + std::to_string(small_range.first);
        int ready[2];
        int finish[2];
        ASSERT_EQ(pipe(ready), 0);
        ASSERT_EQ(pipe(finish), 0);
        pid_t child = fork();
        if (child == 0) { // holds the first id's lock, as a live sandbox in another process would
            int fd = open(path.c_str(), O_RDWR | O_CREAT, 0600);
            char byte = (fd >= 0 && flock(fd, LOCK_EX) == 0) ? 'y' : 'n';
            (void)!write(ready[1], &byte, 1);
            (void)!read(finish[0], &byte, 1);
            _exit(0);
        }
        char byte = 0;
        ASSERT_EQ(read(ready[0], &byte, 1), 1);
        ASSERT_EQ(byte, 'y');

        auto lease = allocate_jail_id(directory, small_range);

        (void)!write(finish[1], "x", 1);
        waitpid(child, nullptr, 0);
        for (int fd : { ready[0], ready[1], finish[0], finish[1] })
            close(fd);
        ASSERT_TRUE(lease) << lease.error().message;
        EXPECT_EQ(lease->id(), small_range.first + 1);
    }

    TEST_F(JailIdsTest, HolderProcessDies_ItsIdIsFreeAgain)
    {
        auto directory = ids();
        auto path = base + "/husk/ids/" + std::to_string(small_range.first);
        pid_t child = fork();
        if (child == 0) { // locks and dies without releasing: a crashed host process
            int fd = open(path.c_str(), O_RDWR | O_CREAT, 0600);
            _exit(fd >= 0 && flock(fd, LOCK_EX) == 0 ? 0 : 1);
        }
        int status = 0;
        waitpid(child, &status, 0);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        auto lease = allocate_jail_id(directory, small_range);

        ASSERT_TRUE(lease);
        EXPECT_EQ(lease->id(), small_range.first);
    }

    TEST_F(JailIdsTest, ExhaustedRange_FailsClearly)
    {
        auto directory = ids();
        std::vector<JailIdLease> held;
        for (uint32_t i = 0; i < small_range.count; ++i) {
            auto lease = allocate_jail_id(directory, small_range);
            ASSERT_TRUE(lease);
            held.push_back(std::move(*lease));
        }

        auto one_more = allocate_jail_id(directory, small_range);

        ASSERT_FALSE(one_more);
        EXPECT_NE(one_more.error().message.find("all 3 jail ids (5000..5002) are in use"), std::string::npos)
            << one_more.error().message;
    }

    TEST_F(JailIdsTest, SymlinkedLockFile_IsRefused)
    {
        auto directory = ids();
        auto target = base + "/elsewhere";
        ASSERT_EQ(close(open(target.c_str(), O_CREAT | O_WRONLY, 0600)), 0);
        ASSERT_EQ(symlink(target.c_str(), (base + "/husk/ids/" + std::to_string(small_range.first)).c_str()), 0);

        auto lease = allocate_jail_id(directory, small_range);

        ASSERT_FALSE(lease);
        EXPECT_NE(lease.error().message.find("symlinks are refused"), std::string::npos) << lease.error().message;
    }

    TEST_F(JailIdsTest, SymlinkedLockDirectory_IsRefused)
    {
        std::filesystem::create_directories(base + "/real");
        ASSERT_EQ(chmod((base + "/real").c_str(), 0700), 0);
        std::filesystem::create_directories(base + "/husk");
        ASSERT_EQ(symlink((base + "/real").c_str(), (base + "/husk/ids").c_str()), 0);

        auto directory = open_private_directory(base, "husk/ids", 0700);

        ASSERT_FALSE(directory);
        EXPECT_NE(directory.error().message.find("symlink"), std::string::npos) << directory.error().message;
    }

    TEST_F(JailIdsTest, WorldWritableLockDirectory_IsRefused)
    {
        std::filesystem::create_directories(base + "/husk/ids");
        ASSERT_EQ(chmod((base + "/husk/ids").c_str(), 0777), 0);

        auto directory = open_private_directory(base, "husk/ids", 0700);

        ASSERT_FALSE(directory);
        EXPECT_NE(directory.error().message.find("writable by other users"), std::string::npos)
            << directory.error().message;
    }

    TEST_F(JailIdsTest, DirectoryOfAnotherUser_IsRefused)
    {
        if (geteuid() != 0)
            GTEST_SKIP() << "needs root to give a directory away";
        std::filesystem::create_directories(base + "/husk/ids");
        ASSERT_EQ(chown((base + "/husk/ids").c_str(), 12345, 12345), 0);

        auto directory = open_private_directory(base, "husk/ids", 0700);

        ASSERT_FALSE(directory);
        EXPECT_NE(directory.error().message.find("owned by uid 12345"), std::string::npos) << directory.error().message;
    }

    TEST_F(JailIdsTest, MissingDirectories_AreCreatedPrivate)
    {
        auto directory = open_private_directory(base, "husk/ids", 0700);

        ASSERT_TRUE(directory) << directory.error().message;
        struct stat info { };
        ASSERT_EQ(stat((base + "/husk/ids").c_str(), &info), 0);
        EXPECT_EQ(info.st_mode & 0777, 0700u);
        EXPECT_EQ(info.st_uid, geteuid());
    }

    TEST_F(JailIdsTest, DotDotComponent_IsRefused)
    {
        auto directory = open_private_directory(base, "husk/../ids", 0700);

        EXPECT_FALSE(directory);
    }

} // namespace
} // namespace husk::detail
