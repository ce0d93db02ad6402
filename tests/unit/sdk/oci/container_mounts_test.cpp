// config.json mounts → shares, the guest's own mounts, warnings and refusals (container_mounts).
#include "sdk/oci/container_mounts.hpp"
#include "sdk/oci/oci_config.hpp"
#include "sdk/oci/sandbox_settings.hpp"

#include <gtest/gtest.h>
#include <map>

namespace husk::oci {
namespace {

    // Host paths as the tests want them; everything else is missing.
    std::map<std::string, HostFileKind> const host {
        { "/srv/data", HostFileKind::Directory },
        { "/srv/in", HostFileKind::Directory },
        { "/run/libpod/shm", HostFileKind::Directory },
        { "/run/libpod/hosts", HostFileKind::File },
        { "/run/libpod/resolv.conf", HostFileKind::File },
        { "/run/libpod/hostname", HostFileKind::File },
        { "/run/libpod/.containerenv", HostFileKind::File },
        { "/etc/passwd", HostFileKind::File },
        { "/dev/null", HostFileKind::Other },
    };

    HostFileKind kind_of(std::string const& path)
    {
        auto it = host.find(path);
        return it == host.end() ? HostFileKind::Missing : it->second;
    }

    OciMount bind_mount(std::string source, std::string destination, std::vector<std::string> options = { "rbind" })
    {
        return OciMount { std::move(destination), "bind", std::move(source), std::move(options) };
    }

    // What podman 4.3 writes for `podman run -v /srv/data:/data -v /srv/in:/in:ro`, in its order.
    std::vector<OciMount> podman_mounts()
    {
        return {
            { "/proc", "proc", "proc", { "nosuid", "noexec", "nodev" } },
            { "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k" } },
            { "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro" } },
            { "/dev/pts", "devpts", "devpts", { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620" } },
            { "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev" } },
            bind_mount("/run/libpod/hosts", "/etc/hosts", { "bind", "rprivate" }),
            bind_mount("/run/libpod/shm", "/dev/shm", { "bind", "rprivate" }),
            bind_mount("/run/libpod/resolv.conf", "/etc/resolv.conf", { "bind", "rprivate" }),
            bind_mount("/run/libpod/hostname", "/etc/hostname", { "bind", "rprivate" }),
            bind_mount("/run/libpod/.containerenv", "/run/.containerenv", { "bind", "rprivate" }),
            bind_mount("/srv/data", "/data", { "rbind", "rw" }),
            bind_mount("/srv/in/", "/in/", { "rbind", "ro", "rprivate" }),
            { "/sys/fs/cgroup", "cgroup", "cgroup", { "rprivate", "nosuid", "noexec", "nodev", "relatime", "ro" } },
        };
    }

    TEST(ContainerMounts, PodmanRunWithVolumes_SharesTheDirectoriesAndNamesWhatIsLeftOut)
    {
        auto plan = plan_container_mounts(podman_mounts(), kind_of);

        ASSERT_TRUE(plan) << plan.error().message;
        ASSERT_EQ(plan->shares.size(), 2u);
        EXPECT_EQ(plan->shares[0].host, "/srv/data");
        EXPECT_EQ(plan->shares[0].guest, "/data");
        EXPECT_FALSE(plan->shares[0].read_only);
        EXPECT_EQ(plan->shares[1].host, "/srv/in");
        EXPECT_EQ(plan->shares[1].guest, "/in");
        EXPECT_TRUE(plan->shares[1].read_only);
        // runc's semantics for volumes: the container's users own what they write there.
        EXPECT_EQ(plan->shares[0].owners, ShareOwners::Guest);
        EXPECT_EQ(plan->shares[1].owners, ShareOwners::Guest);
        // mqueue, cgroup and the four engine files.
        ASSERT_EQ(plan->not_applied.size(), 6u);
        EXPECT_NE(plan->not_applied[0].find("/dev/mqueue"), std::string::npos) << plan->not_applied[0];
        EXPECT_NE(plan->not_applied[1].find("/etc/hosts"), std::string::npos) << plan->not_applied[1];
        EXPECT_NE(plan->not_applied[5].find("cgroup"), std::string::npos) << plan->not_applied[5];
    }

    TEST(ContainerMounts, LastOfRoAndRw_Counts)
    {
        auto plan = plan_container_mounts(
            { bind_mount("/srv/data", "/a", { "ro", "rw" }), bind_mount("/srv/in", "/b", { "rw", "ro" }) }, kind_of);
        ASSERT_TRUE(plan);
        EXPECT_FALSE(plan->shares[0].read_only);
        EXPECT_TRUE(plan->shares[1].read_only);
    }

    TEST(ContainerMounts, WhatCannotBeApplied_IsRefusedNamingTheMount)
    {
        struct Case {
            OciMount mount;
            char const* fragment;
        };
        for (auto const& [mount, fragment] : std::initializer_list<Case> {
                 { bind_mount("/etc/passwd", "/etc/passwd"), "not single files" },
                 { bind_mount("/srv/missing", "/data"), "does not exist" },
                 { bind_mount("/dev/null", "/data"), "neither a directory nor a file" },
                 { bind_mount("relative", "/data"), "absolute source" },
                 { bind_mount("", "/data"), "absolute source" },
                 { bind_mount("/srv/data", "/proc/x"), "/proc" },
                 { bind_mount("/srv/data", "/da:ta"), "':'" },
                 { bind_mount("/srv/data", "/"), "cannot be /" },
                 { { "/cache", "tmpfs", "tmpfs", {} }, "cannot apply" },
                 { { "/proc", "sysfs", "sysfs", {} }, "cannot apply" },
                 { { "/dev/mqueue", "tmpfs", "tmpfs", {} }, "cannot apply" },
                 { { "/mnt", "nfs", "server:/x", {} }, "cannot apply" },
                 { { "/mnt", "", "/srv/data", {} }, "cannot apply" },
             }) {
            auto plan = plan_container_mounts({ mount }, kind_of);
            ASSERT_FALSE(plan) << mount.destination;
            EXPECT_EQ(plan.error().kind, ErrorKind::BadConfig);
            EXPECT_NE(plan.error().message.find("mounts[0]"), std::string::npos) << plan.error().message;
            EXPECT_NE(plan.error().message.find(fragment), std::string::npos) << plan.error().message;
        }
    }

    TEST(ContainerMounts, EightDirectories_AreOneTooManyBesideTheRootfs)
    {
        std::vector<OciMount> mounts;
        for (int i = 0; i < 8; ++i)
            mounts.push_back(bind_mount("/srv/data", "/d" + std::to_string(i)));
        auto plan = plan_container_mounts(mounts, kind_of);
        ASSERT_FALSE(plan);
        EXPECT_NE(plan.error().message.find("mounts[7]"), std::string::npos) << plan.error().message;
        mounts.pop_back();
        EXPECT_TRUE(plan_container_mounts(mounts, kind_of));
    }

    TEST(ContainerMounts, SandboxOptions_CarryTheShares)
    {
        OciConfig config;
        config.process.args = { "x" };
        config.mounts = podman_mounts();
        auto options = sandbox_options_for(config, "/img", kind_of);
        ASSERT_TRUE(options) << options.error().message;
        ASSERT_EQ(options->mounts.size(), 2u);
        EXPECT_EQ(options->mounts[1].guest, "/in");
        config.mounts.push_back(bind_mount("/etc/passwd", "/x"));
        EXPECT_FALSE(sandbox_options_for(config, "/img", kind_of));
    }

    TEST(ContainerMounts, ConfigJsonMounts_AreParsedAsWritten)
    {
        auto config = parse_oci_config(R"({"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/"},
            "root":{"path":"rootfs"},"mounts":[{"destination":"/data","type":"bind","source":"/srv/data",
            "options":["rbind","ro"]},{"destination":"/proc"}]})");
        ASSERT_TRUE(config) << config.error().message;
        ASSERT_EQ(config->mounts.size(), 2u);
        EXPECT_EQ(config->mounts[0].destination, "/data");
        EXPECT_EQ(config->mounts[0].type, "bind");
        EXPECT_EQ(config->mounts[0].source, "/srv/data");
        EXPECT_EQ(config->mounts[0].options, (std::vector<std::string> { "rbind", "ro" }));
        EXPECT_TRUE(config->mounts[1].type.empty());
        EXPECT_TRUE(config->mounts[1].source.empty());
    }

} // namespace
} // namespace husk::oci
