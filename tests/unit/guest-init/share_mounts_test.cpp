// husk.mount= parsing: well-formed values, repeats in order, and hostile values refused.
#include "guest-init/share_mounts.hpp"

#include <gtest/gtest.h>

using namespace husk::init;

TEST(ShareMounts, TagAndPath_AreReadWrite)
{
    auto share = parse_share_mount("data:/mnt/data");
    ASSERT_TRUE(share) << share.error().message;
    EXPECT_EQ(*share, (ShareMount { "data", "/mnt/data", false }));
}

TEST(ShareMounts, RoFlag_IsReadOnly)
{
    auto share = parse_share_mount("in_1:/work/in:ro");
    ASSERT_TRUE(share) << share.error().message;
    EXPECT_EQ(*share, (ShareMount { "in_1", "/work/in", true }));
}

TEST(ShareMounts, EveryParameter_InOrder)
{
    auto cmdline = parse_kernel_cmdline("quiet husk.mount=a:/a husk.mount=b:/x/b:ro -- husk.mount=c:/c");
    auto mounts = share_mounts(cmdline);
    ASSERT_TRUE(mounts) << mounts.error().message;
    ASSERT_EQ(mounts->size(), 2u); // the job's words after -- are not ours
    EXPECT_EQ((*mounts)[1], (ShareMount { "b", "/x/b", true }));
}

TEST(ShareMounts, HostileValues_AreRefusedNamingTheForm)
{
    for (char const* bad :
        { "", "tag", "tag:", ":/x", "tag:relative", "tag:/", "tag:/a/../etc", "tag:/a//b", "tag:/a/./b", "tag:/a/",
            "tag:/proc", "tag:/proc/sys", "tag:/sys/x", "tag:/dev", "t a:/x", "t.a:/x", "tag:/x:rx", "tag:/x:ro:ro" }) {
        auto share = parse_share_mount(bad);
        EXPECT_FALSE(share) << bad;
        if (!share) {
            EXPECT_NE(share.error().message.find("TAG:/guest/path"), std::string::npos) << share.error().message;
        }
    }
    EXPECT_FALSE(parse_share_mount("tag:/" + std::string(300, 'a')));
    EXPECT_TRUE(parse_share_mount("tag:/procfs"));
}

TEST(ShareMounts, ParameterWithoutValue_IsRefused) { EXPECT_FALSE(share_mounts(parse_kernel_cmdline("husk.mount"))); }
