// Tests for runtime/main/share_option: HOSTDIR:TAG[,ro|,rw] and its rejections.
#include "runtime/main/share_option.hpp"

#include <gtest/gtest.h>

using namespace husk;

TEST(ShareOption, ShareOption_DirAndTag_IsReadWrite)
{
    auto share = parse_share_option("/srv/data:data");
    ASSERT_TRUE(share) << share.error().message;
    EXPECT_EQ(*share, (ShareOption { "/srv/data", "data", false }));
}

TEST(ShareOption, ShareOption_RoFlag_IsReadOnly)
{
    auto share = parse_share_option("/srv/data:in_1,ro");
    ASSERT_TRUE(share);
    EXPECT_EQ(*share, (ShareOption { "/srv/data", "in_1", true }));
    EXPECT_FALSE(parse_share_option("/srv/data:in,rw")->read_only);
}

TEST(ShareOption, ShareOption_ColonsAndCommasInDir_OnlyTheTailIsSplitOff)
{
    auto share = parse_share_option("/srv/a:b,c/d:tag,ro");
    ASSERT_TRUE(share) << share.error().message;
    EXPECT_EQ(*share, (ShareOption { "/srv/a:b,c/d", "tag", true }));
    auto plain = parse_share_option("/srv/a,b:tag");
    ASSERT_TRUE(plain) << plain.error().message;
    EXPECT_EQ(*plain, (ShareOption { "/srv/a,b", "tag", false }));
}

TEST(ShareOption, ShareOption_Malformed_IsRefusedWithTheExpectedForm)
{
    for (char const* bad : { "", "/srv/data", "/srv/data:", ":tag", "relative:tag", "/srv:tag,rox", "/srv:tag,",
             "/srv:ta g", "/srv:tag/x", "/srv:tag\"", "/srv:0123456789012345678901234567890123" }) {
        auto share = parse_share_option(bad);
        EXPECT_FALSE(share) << bad;
        if (!share) {
            EXPECT_NE(share.error().message.find("HOSTDIR:TAG"), std::string::npos) << share.error().message;
        }
    }
    EXPECT_FALSE(parse_share_option(std::string_view("/srv\0x:tag", 10)));
}

TEST(ShareOption, ShareTag_Charset)
{
    EXPECT_TRUE(is_valid_share_tag("A-z_09"));
    EXPECT_FALSE(is_valid_share_tag("a.b"));
    EXPECT_FALSE(is_valid_share_tag("a:b"));
    EXPECT_FALSE(is_valid_share_tag(std::string(33, 'a')));
}

TEST(ShareOption, ShareOption_GuestOwners_WithOrWithoutAccess)
{
    auto share = parse_share_option("/srv/root:r,guest-owners");
    ASSERT_TRUE(share) << share.error().message;
    EXPECT_EQ(*share, (ShareOption { "/srv/root", "r", false, ShareOwnership::Guest }));
    EXPECT_EQ(
        *parse_share_option("/srv/a:b,ro,guest-owners"), (ShareOption { "/srv/a", "b", true, ShareOwnership::Guest }));
    EXPECT_EQ(
        *parse_share_option("/srv/a:b,guest-owners,rw"), (ShareOption { "/srv/a", "b", false, ShareOwnership::Guest }));
    EXPECT_EQ(parse_share_option("/srv/a:b,rw")->ownership, ShareOwnership::ServerUser);
}

TEST(ShareOption, ShareOption_RepeatedOrUnknownFlags_AreRefused)
{
    for (char const* bad : { "/srv:t,ro,rw", "/srv:t,guest-owners,guest-owners", "/srv:t,guest-owner", "/srv:t,ro,",
             "/srv:t,,ro", "/srv:t,keep-owners" }) {
        auto share = parse_share_option(bad);
        EXPECT_FALSE(share) << bad;
        if (!share) {
            EXPECT_NE(share.error().message.find("guest-owners"), std::string::npos) << share.error().message;
        }
    }
}
