// Tests for guest-init/protocol/share_names.hpp: the tag and guest-path rules husk-init, husk-vmm
// and the SDK share.
#include "guest-init/protocol/share_names.hpp"

#include <gtest/gtest.h>
#include <string>

using namespace husk::protocol;

TEST(ShareNames, ShareTag_LettersDigitsUnderscoreDash_AreValid)
{
    EXPECT_TRUE(is_valid_share_tag("rootfs"));
    EXPECT_TRUE(is_valid_share_tag("m0"));
    EXPECT_TRUE(is_valid_share_tag("A_b-9"));
    EXPECT_TRUE(is_valid_share_tag(std::string(32, 'x')));
}

TEST(ShareNames, ShareTag_EmptyLongOrOtherBytes_AreInvalid)
{
    for (std::string const& bad : std::initializer_list<std::string> {
             "", std::string(33, 'x'), "a b", "a/b", "a.b", "a:b", "é", std::string("a\0b", 3) })
        EXPECT_FALSE(is_valid_share_tag(bad)) << bad;
}

TEST(ShareNames, GuestMountPath_Plain_HasNoProblem)
{
    EXPECT_TRUE(guest_mount_path_problem("/data").empty());
    EXPECT_TRUE(guest_mount_path_problem("/mnt/a-b/c_d").empty());
    EXPECT_TRUE(guest_mount_path_problem("/device").empty());
    EXPECT_TRUE(guest_mount_path_problem("/" + std::string(254, 'a')).empty());
}

TEST(ShareNames, GuestMountPath_Malformed_NamesTheRule)
{
    struct Case {
        std::string path;
        char const* fragment;
    };
    for (auto const& [path, fragment] : std::initializer_list<Case> { { "", "absolute" }, { "data", "absolute" },
             { "/" + std::string(255, 'a'), "255" }, { "/a:b", "':'" }, { "/a b", "blanks" }, { "/a\"b", "quotes" },
             { std::string("/a\0b", 4), "NUL" }, { "/", "cannot be /" }, { "/a//b", "empty" }, { "/a/", "empty" },
             { "/a/./b", ". or .." }, { "/a/..", ". or .." }, { "/proc", "/proc" }, { "/sys/x", "/sys" },
             { "/dev/shm", "/dev" } }) {
        auto problem = guest_mount_path_problem(path);
        EXPECT_NE(problem.find(fragment), std::string_view::npos) << path << ": " << problem;
    }
}
