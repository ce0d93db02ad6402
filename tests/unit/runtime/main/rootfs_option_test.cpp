// Tests for runtime/main/rootfs_option: DIR[,ro|,rw], its share and its husk.root= word.
#include "runtime/main/rootfs_option.hpp"

#include <gtest/gtest.h>

using namespace husk;

TEST(RootfsOption, RootfsOption_DirAlone_IsReadOnlyWithOverlay)
{
    auto rootfs = parse_rootfs_option("/srv/root");
    ASSERT_TRUE(rootfs) << rootfs.error().message;
    EXPECT_EQ(*rootfs, (RootfsOption { "/srv/root", RootfsWrites::PrivateOverlay }));
    EXPECT_EQ(rootfs->share(), (ShareOption { "/srv/root", "rootfs", true }));
    EXPECT_EQ(rootfs->kernel_argument(), "husk.root=9p:rootfs");
}

TEST(RootfsOption, RootfsOption_RwFlag_IsWrittenInPlaceThroughAWritableShare)
{
    auto rootfs = parse_rootfs_option("/srv/root,rw");
    ASSERT_TRUE(rootfs) << rootfs.error().message;
    EXPECT_EQ(*rootfs, (RootfsOption { "/srv/root", RootfsWrites::InPlace }));
    EXPECT_EQ(rootfs->share(), (ShareOption { "/srv/root", "rootfs", false }));
    EXPECT_EQ(rootfs->kernel_argument(), "husk.root=9p:rootfs:rw");
    EXPECT_EQ(parse_rootfs_option("/srv/root,ro")->writes, RootfsWrites::PrivateOverlay);
}

TEST(RootfsOption, RootfsOption_CommaInDir_NeedsAnExplicitFlag)
{
    auto rootfs = parse_rootfs_option("/srv/a,b,ro");
    ASSERT_TRUE(rootfs) << rootfs.error().message;
    EXPECT_EQ(rootfs->host_path, "/srv/a,b");
    EXPECT_FALSE(parse_rootfs_option("/srv/a,b"));
}

TEST(RootfsOption, RootfsOption_Malformed_IsRefusedWithTheExpectedForm)
{
    for (char const* bad : { "", ",rw", "relative", "relative,rw", "/srv,", "/srv,RW", "/srv,rw,", "/srv,w" }) {
        auto rootfs = parse_rootfs_option(bad);
        EXPECT_FALSE(rootfs) << bad;
        if (!rootfs) {
            EXPECT_NE(rootfs.error().message.find("DIR or DIR,rw"), std::string::npos) << rootfs.error().message;
            EXPECT_EQ(rootfs.error().message.find('\n'), std::string::npos);
        }
    }
    EXPECT_FALSE(parse_rootfs_option(std::string_view("/srv\0x", 6)));
}

TEST(RootfsOption, RootfsOption_GuestOwners_InEitherOrder_CarriedByTheShare)
{
    for (char const* text : { "/srv/root,rw,guest-owners", "/srv/root,guest-owners,rw" }) {
        auto rootfs = parse_rootfs_option(text);
        ASSERT_TRUE(rootfs) << text << ": " << rootfs.error().message;
        EXPECT_EQ(*rootfs, (RootfsOption { "/srv/root", RootfsWrites::InPlace, ShareOwnership::Guest }));
        EXPECT_EQ(rootfs->share(), (ShareOption { "/srv/root", "rootfs", false, ShareOwnership::Guest }));
    }
    auto read_only = parse_rootfs_option("/srv/root,guest-owners");
    ASSERT_TRUE(read_only);
    EXPECT_EQ(read_only->writes, RootfsWrites::PrivateOverlay);
    EXPECT_EQ(read_only->ownership, ShareOwnership::Guest);
    EXPECT_FALSE(parse_rootfs_option("/srv/root,guest-owners,guest-owners"));
    EXPECT_FALSE(parse_rootfs_option("/srv/root,rw,ro"));
}
