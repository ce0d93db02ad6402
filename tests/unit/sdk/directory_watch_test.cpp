// DirectoryWatch: wakes at a name created in the directory, also one created before the wait,
// and times out when nothing appears.
#include "sdk/src/directory_watch.hpp"
#include "sdk/src/temp_dir.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <thread>

namespace husk::detail {
namespace {

    using namespace std::chrono_literals;
    using Clock = std::chrono::steady_clock;

    void create_file(std::string const& path) { ASSERT_TRUE(Fd::open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)); }

    TEST(DirectoryWatch, NameCreatedWhileWaiting_WakesTheWaiterAtOnce)
    {
        auto directory = TempDir::create();
        ASSERT_TRUE(directory);
        auto watch = DirectoryWatch::create(directory->path());
        ASSERT_TRUE(watch) << watch.error().message;
        std::thread creator([&] {
            std::this_thread::sleep_for(50ms);
            create_file(*directory / "v.sock");
        });

        auto start = Clock::now();
        bool woke = watch->wait(10s);
        auto waited = Clock::now() - start;
        creator.join();

        EXPECT_TRUE(woke);
        EXPECT_LT(waited, 5s);
    }

    TEST(DirectoryWatch, NameCreatedBeforeTheWait_CountsAndIsConsumed)
    {
        auto directory = TempDir::create();
        ASSERT_TRUE(directory);
        auto watch = DirectoryWatch::create(directory->path());
        ASSERT_TRUE(watch);
        create_file(*directory / "early");

        EXPECT_TRUE(watch->wait(0ms));
        EXPECT_FALSE(watch->wait(0ms));
    }

    TEST(DirectoryWatch, NothingCreated_TimesOut)
    {
        auto directory = TempDir::create();
        ASSERT_TRUE(directory);
        auto watch = DirectoryWatch::create(directory->path());
        ASSERT_TRUE(watch);

        EXPECT_FALSE(watch->wait(20ms));
    }

    TEST(DirectoryWatch, MissingDirectory_Fails)
    {
        auto watch = DirectoryWatch::create("/nonexistent-husk-directory/sub");
        ASSERT_FALSE(watch);
        EXPECT_NE(watch.error().message.find("inotify_add_watch"), std::string::npos) << watch.error().message;
    }

} // namespace
} // namespace husk::detail
