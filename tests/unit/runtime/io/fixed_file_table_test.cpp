// FixedFileTable: lowest-free-slot allocation, the capacity bound, and release checks.
#include "runtime/io/fixed_file_table.hpp"

#include <gtest/gtest.h>
#include <string>

using namespace husk;

TEST(FixedFileTable, FreshTable_HandsOutSlotsFromZeroUp)
{
    FixedFileTable table(3);

    auto first = table.acquire();
    auto second = table.acquire();

    ASSERT_TRUE(first.has_value() && second.has_value());
    EXPECT_EQ(first->index, 0u);
    EXPECT_EQ(second->index, 1u);
    EXPECT_EQ(table.used(), 2u);
    EXPECT_TRUE(table.is_registered(FixedFile { 1 }));
    EXPECT_FALSE(table.is_registered(FixedFile { 2 }));
}

TEST(FixedFileTable, FullTable_AcquireFailsNamingTheCapacity)
{
    FixedFileTable table(2);
    ASSERT_TRUE(table.acquire());
    ASSERT_TRUE(table.acquire());

    auto third = table.acquire();

    ASSERT_FALSE(third.has_value());
    EXPECT_NE(third.error().message.find("all 2 slots in use"), std::string::npos) << third.error().message;
}

TEST(FixedFileTable, ReleasedSlot_IsReusedFirst)
{
    FixedFileTable table(3);
    ASSERT_TRUE(table.acquire());
    ASSERT_TRUE(table.acquire());
    ASSERT_TRUE(table.acquire());

    ASSERT_TRUE(table.release(FixedFile { 1 }));
    auto again = table.acquire();

    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->index, 1u);
    EXPECT_EQ(table.used(), 3u);
}

TEST(FixedFileTable, ReleaseOfFreeOrOutOfRangeSlot_Fails)
{
    FixedFileTable table(2);
    ASSERT_TRUE(table.acquire());

    auto free_slot = table.release(FixedFile { 1 });
    auto outside = table.release(FixedFile { 7 });

    EXPECT_FALSE(free_slot.has_value());
    EXPECT_FALSE(outside.has_value());
    EXPECT_EQ(table.used(), 1u);
}
