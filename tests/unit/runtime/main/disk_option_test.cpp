// Tests for runtime/main/disk_option: PATH[,ro] and its rejections.
#include "runtime/main/disk_option.hpp"

#include <gtest/gtest.h>

using namespace husk;

TEST(DiskOption, DiskOption_PathOnly_IsReadWrite)
{
    auto disk = parse_disk_option("/images/root.ext4");
    ASSERT_TRUE(disk) << disk.error().message;
    EXPECT_EQ(*disk, (DiskOption { "/images/root.ext4", false }));
}

TEST(DiskOption, DiskOption_RoFlag_IsReadOnly)
{
    auto disk = parse_disk_option("/images/root.ext4,ro");
    ASSERT_TRUE(disk);
    EXPECT_EQ(*disk, (DiskOption { "/images/root.ext4", true }));
}

TEST(DiskOption, DiskOption_CommaInPath_OnlyLastPartIsTheFlag)
{
    auto disk = parse_disk_option("/images/a,b.img,rw");
    ASSERT_TRUE(disk);
    EXPECT_EQ(*disk, (DiskOption { "/images/a,b.img", false }));
}

TEST(DiskOption, DiskOption_UnknownFlag_IsRefused)
{
    auto disk = parse_disk_option("/images/root.ext4,readonly");
    ASSERT_FALSE(disk);
    EXPECT_NE(disk.error().message.find("readonly"), std::string::npos);
}

TEST(DiskOption, DiskOption_EmptyPath_IsRefused)
{
    EXPECT_FALSE(parse_disk_option(""));
    EXPECT_FALSE(parse_disk_option(",ro"));
}
