// Tests for guest-init/root_switch: which command lines name a disk root, and the refusals.
#include "guest-init/root_switch.hpp"

#include <gtest/gtest.h>

using namespace husk::init;

namespace {

auto root_config_of(std::string_view text) { return root_config(parse_kernel_cmdline(text)); }

} // namespace

TEST(RootConfig, RootConfig_NoParameter_StaysOnInitramfs)
{
    auto config = root_config_of("console=ttyS0 quiet -- /bin/true");
    ASSERT_TRUE(config);
    EXPECT_FALSE(config->has_value());
}

TEST(RootConfig, RootConfig_DeviceGiven_DefaultsToExt4)
{
    auto config = root_config_of("quiet husk.root=/dev/vda -- python3 -c x");
    ASSERT_TRUE(config) << config.error().message;
    ASSERT_TRUE(config->has_value());
    EXPECT_EQ((*config)->device, "/dev/vda");
    EXPECT_EQ((*config)->filesystem, "ext4");
}

TEST(RootConfig, RootConfig_LastParameterWins)
{
    auto config = root_config_of("husk.root=/dev/vda husk.root=/dev/vdb");
    ASSERT_TRUE(config && config->has_value());
    EXPECT_EQ((*config)->device, "/dev/vdb");
}

TEST(RootConfig, RootConfig_AfterSeparator_IsTheJobsNotOurs)
{
    auto config = root_config_of("quiet -- echo husk.root=/dev/vda");
    ASSERT_TRUE(config);
    EXPECT_FALSE(config->has_value());
}

TEST(RootConfig, RootConfig_PathOutsideDev_IsRefused)
{
    EXPECT_FALSE(root_config_of("husk.root=/tmp/disk"));
    EXPECT_FALSE(root_config_of("husk.root=/dev/../etc/passwd"));
    EXPECT_FALSE(root_config_of("husk.root=/dev/"));
    EXPECT_FALSE(root_config_of("husk.root=/dev/vda/x"));
    EXPECT_FALSE(root_config_of("husk.root=vda"));
}

TEST(RootConfig, RootConfig_UnsupportedFilesystem_IsRefused)
{
    auto config = root_config_of("husk.root=/dev/vda husk.rootfstype=btrfs");
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().message.find("ext4"), std::string::npos);
}

TEST(RootConfig, RootConfig_Ext4Named_IsAccepted)
{
    auto config = root_config_of("husk.root=/dev/vdc husk.rootfstype=ext4");
    ASSERT_TRUE(config && config->has_value());
    EXPECT_EQ((*config)->device, "/dev/vdc");
}

TEST(RootConfig, RootConfig_ShareTag_IsReadOnlyWithOverlay)
{
    auto config = root_config_of("quiet husk.root=9p:rootfs -- python3");
    ASSERT_TRUE(config) << config.error().message;
    ASSERT_TRUE(config->has_value());
    EXPECT_EQ((*config)->kind, RootKind::Share);
    EXPECT_EQ((*config)->share_tag, "rootfs");
    EXPECT_EQ((*config)->filesystem, "9p");
    EXPECT_EQ((*config)->writes, RootWrites::PrivateOverlay);
    EXPECT_EQ((*config)->describe(), "shared root rootfs");
}

TEST(RootConfig, RootConfig_ShareTagRw_IsWrittenInPlace)
{
    auto config = root_config_of("husk.root=9p:Root_fs-2:rw");
    ASSERT_TRUE(config && config->has_value()) << (config ? "" : config.error().message);
    EXPECT_EQ((*config)->share_tag, "Root_fs-2");
    EXPECT_EQ((*config)->writes, RootWrites::InPlace);
}

TEST(RootConfig, RootConfig_ShareTagRoSpelledOut_IsTheDefault)
{
    auto config = root_config_of("husk.root=9p:rootfs:ro");
    ASSERT_TRUE(config && config->has_value());
    EXPECT_EQ((*config)->writes, RootWrites::PrivateOverlay);
}

TEST(RootConfig, RootConfig_DiskDefaults_AreOverlayOnDisk)
{
    auto config = root_config_of("husk.root=/dev/vda");
    ASSERT_TRUE(config && config->has_value());
    EXPECT_EQ((*config)->kind, RootKind::Disk);
    EXPECT_EQ((*config)->writes, RootWrites::PrivateOverlay);
    EXPECT_EQ((*config)->describe(), "disk root /dev/vda");
}

TEST(RootConfig, RootConfig_MalformedShareForms_AreRefusedWithTheExpectedForm)
{
    for (auto text : { "husk.root=9p:", "husk.root=9p::rw", "husk.root=9p:root:wr", "husk.root=9p:root:rw:x",
             "husk.root=9p:ro/ot", "husk.root=9p:a.b", "husk.root=9p:root:", "husk.root=9p:root:RW",
             "husk.root=9p:abcdefghijklmnopqrstuvwxyz0123456", "husk.root=\"9p:ro ot\"", "husk.root=9P:root",
             "husk.root=9p" }) {
        auto config = root_config_of(text);
        ASSERT_FALSE(config) << text;
        EXPECT_NE(config.error().message.find("9p:TAG"), std::string::npos) << text << ": " << config.error().message;
        EXPECT_EQ(config.error().message.find('\n'), std::string::npos) << text;
    }
}

TEST(RootConfig, RootConfig_LongestTag_IsAccepted)
{
    auto config = root_config_of("husk.root=9p:abcdefghijklmnopqrstuvwxyz012345");
    ASSERT_TRUE(config && config->has_value());
    EXPECT_EQ((*config)->share_tag.size(), 32u);
}

TEST(RootConfig, RootConfig_FilesystemTypeWithShareRoot_IsRefused)
{
    auto config = root_config_of("husk.root=9p:rootfs husk.rootfstype=ext4");
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().message.find("only disk roots"), std::string::npos) << config.error().message;
}

TEST(RootConfig, RootConfig_EmptyValue_IsRefused) { EXPECT_FALSE(root_config_of("husk.root=")); }

TEST(RootConfig, RootConfig_QuotedValueWithNewline_GivesAOneLineError)
{
    for (auto text :
        { "husk.root=\"9p:a\nb\"", "husk.root=\"/dev/a\nb\"", "husk.root=/dev/vda husk.rootfstype=\"x\ny\"" }) {
        auto config = root_config_of(text);
        ASSERT_FALSE(config) << text;
        EXPECT_EQ(config.error().message.find('\n'), std::string::npos) << config.error().message;
        EXPECT_NE(config.error().message.find("\\x0a"), std::string::npos) << config.error().message;
    }
}
