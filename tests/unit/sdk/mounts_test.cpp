// SandboxOptions::mounts: the checks (BadConfig naming the rule) and the husk-vmm arguments and
// kernel command line words they become.
#include "sdk/src/mounts.hpp"

#include <gtest/gtest.h>

using namespace husk;
using namespace husk::detail;

TEST(SdkMounts, WellFormed_BecomeSharesAndMountWords)
{
    std::vector<Mount> mounts { { "/srv/in", "/in", true }, { "/srv/a:b,c", "/work/out", false } };
    ASSERT_TRUE(check_mounts(mounts));
    std::vector<std::string> argv;
    std::vector<std::string> words;
    append_mount_arguments(mounts, argv, words);
    EXPECT_EQ(argv, (std::vector<std::string> { "--share", "/srv/in:m0,ro", "--share", "/srv/a:b,c:m1" }));
    EXPECT_EQ(words, (std::vector<std::string> { "husk.mount=m0:/in:ro", "husk.mount=m1:/work/out" }));
}

TEST(SdkMounts, GuestOwners_AreFlaggedOnTheShare)
{
    std::vector<Mount> mounts { { "/srv/in", "/in", true, ShareOwners::Guest },
        { "/srv/out", "/out", false, ShareOwners::Guest } };
    std::vector<std::string> argv;
    std::vector<std::string> words;
    append_mount_arguments(mounts, argv, words);
    EXPECT_EQ(argv,
        (std::vector<std::string> { "--share", "/srv/in:m0,ro,guest-owners", "--share", "/srv/out:m1,guest-owners" }));
    EXPECT_EQ(words, (std::vector<std::string> { "husk.mount=m0:/in:ro", "husk.mount=m1:/out" }));
}

TEST(SdkMounts, Malformed_AreBadConfig)
{
    std::vector<Mount> bad_ones { { "relative", "/in", false }, { "/srv", "in", false }, { "/srv", "/", false },
        { "/srv", "/a/../etc", false }, { "/srv", "/a b", false }, { "/srv", "/a:b", false },
        { "/srv", "/proc/x", false }, { "/srv", "/dev", false }, { "/srv", "/sys", false }, { "/srv", "/a//b", false },
        { "/srv", "", false }, { std::string("/sr\0v", 5), "/in", false } };
    for (auto const& mount : bad_ones) {
        auto checked = check_mounts({ mount });
        EXPECT_FALSE(checked) << mount.host << " -> " << mount.guest;
        if (!checked) {
            EXPECT_EQ(checked.error().kind, ErrorKind::BadConfig);
        }
    }
}

TEST(SdkMounts, SameGuestPathTwice_OrTooMany_AreBadConfig)
{
    EXPECT_FALSE(check_mounts({ { "/a", "/x", false }, { "/b", "/x", true } }));
    std::vector<Mount> many;
    for (int i = 0; i < 9; ++i)
        many.push_back({ "/srv", "/m" + std::to_string(i), false });
    auto checked = check_mounts(many);
    ASSERT_FALSE(checked);
    EXPECT_NE(checked.error().message.find("at most 8"), std::string::npos);
}
