// Tests for guest-init/mounts: the mount table's invariants (order, flags, need).
#include "guest-init/mounts.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <sys/mount.h>
#include <utility>
#include <vector>

using namespace husk::init;

namespace {

MountSpec const* find(std::string const& target)
{
    for (auto const& spec : boot_mounts()) {
        if (target == spec.target)
            return &spec;
    }
    return nullptr;
}

} // namespace

TEST(MountTable, Proc_IsRequiredAndLockedDown)
{
    auto const& proc = proc_mount();
    EXPECT_STREQ(proc.target, "/proc");
    EXPECT_STREQ(proc.filesystem, "proc");
    EXPECT_EQ(proc.need, MountNeed::Required);
    EXPECT_EQ(
        proc.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC), static_cast<unsigned long>(MS_NOSUID | MS_NODEV | MS_NOEXEC));
}

TEST(MountTable, HoldsTheExpectedFilesystems)
{
    for (auto [target, filesystem] : { std::pair { "/sys", "sysfs" }, { "/dev", "devtmpfs" }, { "/dev/pts", "devpts" },
             { "/dev/shm", "tmpfs" }, { "/tmp", "tmpfs" }, { "/run", "tmpfs" } }) {
        auto const* spec = find(target);
        ASSERT_NE(spec, nullptr) << target;
        EXPECT_STREQ(spec->filesystem, filesystem) << target;
    }
}

TEST(MountTable, OnlyDevpts_IsOptional)
{
    for (auto const& spec : boot_mounts())
        EXPECT_EQ(spec.need == MountNeed::Optional, std::string(spec.target) == "/dev/pts") << spec.target;
}

TEST(MountTable, NestedMount_ComesAfterItsParent)
{
    std::vector<std::string> mounted { "/", "/proc" };
    for (auto const& spec : boot_mounts()) {
        std::string target = spec.target;
        auto parent = target.substr(0, target.rfind('/'));
        if (parent.empty())
            parent = "/";
        EXPECT_NE(std::find(mounted.begin(), mounted.end(), parent), mounted.end()) << target;
        mounted.push_back(target);
    }
}

TEST(MountTable, EveryMount_IsNosuid_AndDevOnlyOnDevtmpfsAndDevpts)
{
    for (auto const& spec : boot_mounts()) {
        EXPECT_TRUE(spec.flags & MS_NOSUID) << spec.target;
        bool holds_devices = std::string(spec.filesystem) == "devtmpfs" || std::string(spec.filesystem) == "devpts";
        EXPECT_EQ((spec.flags & MS_NODEV) == 0, holds_devices) << spec.target;
    }
}

TEST(MountTable, Tmp_IsWorldWritableAndSticky)
{
    auto const* tmp = find("/tmp");
    ASSERT_NE(tmp, nullptr);
    EXPECT_STREQ(tmp->data, "mode=1777");
    EXPECT_STREQ(find("/run")->data, "mode=0755");
}
