// husk::Pool's option checks (filling with real VMs is tested in the lab, lab_snapshot).
#include "husk/pool.hpp"

#include <filesystem>
#include <gtest/gtest.h>

using namespace husk;

TEST(Pool, NoSnapshotThere_IsBadConfig)
{
    auto pool = Pool::create({ .snapshot_directory = "/nonexistent/snapshot", .size = 2 });
    ASSERT_FALSE(pool);
    EXPECT_EQ(pool.error().kind, ErrorKind::BadConfig);
    EXPECT_NE(pool.error().message.find("no state file"), std::string::npos);
}

TEST(Pool, SizesOutOfRange_AreBadConfig)
{
    EXPECT_EQ(Pool::create({ .snapshot_directory = "/tmp", .size = 0 }).error().kind, ErrorKind::BadConfig);
    EXPECT_EQ(Pool::create({ .snapshot_directory = "/tmp", .size = 1000 }).error().kind, ErrorKind::BadConfig);
    EXPECT_EQ(Pool::create({ .snapshot_directory = "/tmp", .size = 2, .parallel_restores = 3 }).error().kind,
        ErrorKind::BadConfig);
}
