// Tests for guest-init/root_switch: which command lines name a disk root, and the refusals.
#include "guest-init/root_switch.hpp"

#include <gtest/gtest.h>

using namespace husk::init;

namespace {

auto config_of(std::string_view text) { return root_config(parse_kernel_cmdline(text)); }

} // namespace

TEST(RootConfig, RootConfig_NoParameter_StaysOnInitramfs)
{
    auto config = config_of("console=ttyS0 quiet -- /bin/true");
    ASSERT_TRUE(config);
    EXPECT_FALSE(config->has_value());
}

TEST(RootConfig, RootConfig_DeviceGiven_DefaultsToExt4)
{
    auto config = config_of("quiet husk.root=/dev/vda -- python3 -c x");
    ASSERT_TRUE(config) << config.error().message;
    ASSERT_TRUE(config->has_value());
    EXPECT_EQ((*config)->device, "/dev/vda");
    EXPECT_EQ((*config)->filesystem, "ext4");
}

TEST(RootConfig, RootConfig_LastParameterWins)
{
    auto config = config_of("husk.root=/dev/vda husk.root=/dev/vdb");
    ASSERT_TRUE(config && config->has_value());
    EXPECT_EQ((*config)->device, "/dev/vdb");
}

TEST(RootConfig, RootConfig_AfterSeparator_IsTheJobsNotOurs)
{
    auto config = config_of("quiet -- echo husk.root=/dev/vda");
    ASSERT_TRUE(config);
    EXPECT_FALSE(config->has_value());
}

TEST(RootConfig, RootConfig_PathOutsideDev_IsRefused)
{
    EXPECT_FALSE(config_of("husk.root=/tmp/disk"));
    EXPECT_FALSE(config_of("husk.root=/dev/../etc/passwd"));
    EXPECT_FALSE(config_of("husk.root=/dev/"));
    EXPECT_FALSE(config_of("husk.root=/dev/vda/x"));
    EXPECT_FALSE(config_of("husk.root=vda"));
}

TEST(RootConfig, RootConfig_UnsupportedFilesystem_IsRefused)
{
    auto config = config_of("husk.root=/dev/vda husk.rootfstype=btrfs");
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().message.find("ext4"), std::string::npos);
}

TEST(RootConfig, RootConfig_Ext4Named_IsAccepted)
{
    auto config = config_of("husk.root=/dev/vdc husk.rootfstype=ext4");
    ASSERT_TRUE(config && config->has_value());
    EXPECT_EQ((*config)->device, "/dev/vdc");
}
