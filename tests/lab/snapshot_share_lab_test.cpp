// Lab: snapshots of sandboxes with a shared host directory (SandboxOptions::mounts, virtio-9p;
// docs/snapshots.md). A sandbox mounts a directory at /data, runs a job there and is snapshotted;
// clones restored from it read and write the directory they are given under the same mount: a
// copy each (their writes reach their own copy on the host), or one read-only directory for
// both. A file a guest process held open across the snapshot is read on through its restored
// fid; one whose file the host deleted fails the snapshot until it is closed. Restores whose
// mounts do not match the snapshot's are refused before the guest runs. A sandbox whose root is
// a host directory (rootfs_dir) is restored on it with its overlay.
#include "husk/husk.hpp"
#include "tests/lab/sdk_lab_support.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <unistd.h>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using husk_lab::lab_options;
using husk_lab::run_ok;

std::string host_file(fs::path const& path)
{
    std::ifstream in(path);
    std::stringstream all;
    all << in.rdbuf();
    return all.str();
}

class SnapshotShareLab : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string pattern = "/tmp/husk-snapshot-share-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        top = pattern;
        fs::permissions(top, fs::perms::all);
        data = top / "data";
        fs::create_directories(data);
        // The jailed VMMs run as uids of their own: they must be able to write a writable share.
        fs::permissions(data, fs::perms::all);
        std::ofstream(data / "in.txt") << "input from the host\n";
    }
    void TearDown() override
    {
        std::error_code ignored;
        fs::remove_all(top, ignored);
    }

    husk::SandboxOptions options_with(fs::path const& directory, bool read_only)
    {
        auto options = lab_options();
        options.boot_timeout = 180s; // a cold boot, jailed, on a lab that may be shared
        options.mounts = { { directory.string(), "/data", read_only } };
        return options;
    }

    // Boots a sandbox on `data`, lets `script` run in it, snapshots it and shuts it down. With
    // `first_a_deleted_open_file`, a snapshot is tried first while a guest process holds a file
    // open that the host deleted: it must fail saying so, and the sandbox go on.
    void snapshot_after(std::string const& script, bool read_only, bool first_a_deleted_open_file = false)
    {
        auto original = husk::Sandbox::create(options_with(data, read_only));
        ASSERT_TRUE(original) << original.error().message;
        if (first_a_deleted_open_file) {
            run_ok(*original,
                "echo doomed > /data/doomed.txt; setsid sh -c 'exec 4</data/doomed.txt; touch /tmp/holding; "
                "while [ ! -e /tmp/release ]; do sleep 0.1; done; exec 4<&-; touch /tmp/closed' "
                "</dev/null >/dev/null 2>&1 & "
                "while [ ! -e /tmp/holding ]; do sleep 0.1; done");
            fs::remove(data / "doomed.txt");
            auto refused = original->snapshot((top / "refused").string());
            ASSERT_FALSE(refused);
            std::printf("snapshot refused: %s\n", refused.error().message.c_str());
            EXPECT_NE(refused.error().message.find("'doomed.txt' open (fid "), std::string::npos);
            EXPECT_NE(refused.error().message.find("but it was deleted"), std::string::npos);
            // The holder lets go; its fid is clunked and the snapshot below succeeds.
            run_ok(*original, "touch /tmp/release; while [ ! -e /tmp/closed ]; do sleep 0.1; done");
        }
        run_ok(*original, script);
        auto taken = original->snapshot((top / "snapshot").string());
        ASSERT_TRUE(taken) << taken.error().message;
        (void)original->shutdown();
    }

    husk::Sandbox restore_on(fs::path const& directory, bool read_only)
    {
        auto options = options_with(directory, read_only);
        options.boot_timeout = 60s;
        auto started = std::chrono::steady_clock::now();
        auto clone = husk::Sandbox::restore((top / "snapshot").string(), options);
        if (!clone) {
            ADD_FAILURE() << husk::error_kind_name(clone.error().kind) << ": " << clone.error().message;
            std::abort();
        }
        std::printf("restored with a share to agent-ready in %lld ms\n",
            static_cast<long long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                    .count()));
        return std::move(*clone);
    }

    std::string refusal(husk::SandboxOptions options)
    {
        options.boot_timeout = 30s;
        auto clone = husk::Sandbox::restore((top / "snapshot").string(), options);
        EXPECT_FALSE(clone);
        if (clone)
            return {};
        EXPECT_EQ(clone.error().kind, husk::ErrorKind::BadConfig) << clone.error().message;
        std::printf("refused: %s\n", clone.error().message.c_str()); // with husk-vmm's last log lines
        return clone.error().message;
    }

    fs::path top, data;
};

TEST_F(SnapshotShareLab, WritableMount_TwoClonesOnTheirOwnCopies_ReadAndWriteApart)
{
    // A process keeps in.txt open across the snapshot and reads it once told to: its descriptor's
    // fid must come back open in each clone, on that clone's copy.
    snapshot_after("cat /data/in.txt; echo before > /data/before.txt; "
                   "setsid sh -c 'exec 3</data/in.txt; while [ ! -e /tmp/go ]; do sleep 0.1; done; "
                   "cat <&3 > /tmp/through-fd3; touch /tmp/done' </dev/null >/dev/null 2>&1 &",
        false, true);
    for (auto const* name : { "a", "b" }) {
        fs::copy(data, top / name, fs::copy_options::recursive);
        fs::permissions(top / name, fs::perms::all);
        std::ofstream(top / name / "in.txt") << "input for clone " << name << "\n";
    }
    auto a = restore_on(top / "a", false);
    auto b = restore_on(top / "b", false);
    EXPECT_EQ(run_ok(a, "cat /data/in.txt"), "input for clone a\n");
    EXPECT_EQ(run_ok(b, "cat /data/in.txt"), "input for clone b\n");
    EXPECT_EQ(run_ok(a, "cat /data/before.txt"), "before\n");
    run_ok(a, "echo written-by-a > /data/out.txt");
    run_ok(b, "echo written-by-b > /data/out.txt");
    EXPECT_EQ(host_file(top / "a" / "out.txt"), "written-by-a\n");
    EXPECT_EQ(host_file(top / "b" / "out.txt"), "written-by-b\n");
    EXPECT_FALSE(fs::exists(data / "out.txt"));
    EXPECT_EQ(run_ok(a, "touch /tmp/go; while [ ! -e /tmp/done ]; do sleep 0.1; done; cat /tmp/through-fd3"),
        "input for clone a\n");
}

TEST_F(SnapshotShareLab, ReadOnlyMount_BothClonesReadOneDirectory_AndMismatchesAreRefused)
{
    snapshot_after("cat /data/in.txt; ls /data", true);
    auto a = restore_on(data, true);
    auto b = restore_on(data, true);
    EXPECT_EQ(run_ok(a, "cat /data/in.txt"), "input from the host\n");
    EXPECT_EQ(run_ok(b, "cat /data/in.txt"), "input from the host\n");
    EXPECT_EQ(run_ok(b, "echo x > /data/new 2>/dev/null && echo written || echo refused"), "refused\n");
    EXPECT_FALSE(fs::exists(data / "new"));

    // Without the mount, writable instead of read-only, or on a directory without the file the
    // guest had looked up: refused with the reason, before the guest runs.
    auto without = lab_options();
    EXPECT_NE(refusal(without).find("virtio-9p"), std::string::npos);
    EXPECT_NE(
        refusal(options_with(data, false)).find("is writable but was read-only in the snapshot"), std::string::npos);
    // husk-vmm itself: the same directory and mode under another tag.
    auto [status, out] = husk_lab::shell(std::string(HUSK_VMM_PATH) + " --restore " + (top / "snapshot").string()
        + " --vsock " + (top / "v.sock").string() + " --share " + data.string() + ":other,ro 2>&1");
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("serves the tag m0 but the restore options give other there"), std::string::npos) << out;
    fs::create_directories(top / "empty");
    EXPECT_NE(refusal(options_with(top / "empty", true)).find("'in.txt'"), std::string::npos);
}

TEST_F(SnapshotShareLab, DirectoryRoot_CloneRunsOnTheTreeWithItsOverlay)
{
    // The smallest root husk-init switches into: a static busybox and the applets the jobs use.
    auto tree = top / "tree";
    fs::create_directories(tree / "bin");
    fs::create_directories(tree / "etc");
    fs::copy_file("/bin/busybox", tree / "bin" / "busybox");
    for (auto const* applet : { "sh", "cat", "ls", "sleep" })
        fs::create_symlink("busybox", tree / "bin" / applet);
    std::ofstream(tree / "etc" / "greeting") << "hello from the tree\n";
    auto options = lab_options();
    options.boot_timeout = 180s;
    options.rootfs_dir = tree.string(); // read-only, the guest's writes in its RAM overlay
    {
        auto original = husk::Sandbox::create(options);
        ASSERT_TRUE(original) << original.error().message;
        EXPECT_EQ(run_ok(*original, "cat /etc/greeting; echo in-the-overlay > /note; ls /bin >/dev/null"),
            "hello from the tree\n");
        auto taken = original->snapshot((top / "snapshot").string());
        ASSERT_TRUE(taken) << taken.error().message;
        (void)original->shutdown();
    }
    options.boot_timeout = 60s;
    auto clone = husk::Sandbox::restore((top / "snapshot").string(), options);
    ASSERT_TRUE(clone) << clone.error().message;
    EXPECT_EQ(run_ok(*clone, "cat /note /etc/greeting"), "in-the-overlay\nhello from the tree\n");
    EXPECT_FALSE(fs::exists(tree / "note"));
    EXPECT_NE(refusal(lab_options()).find("virtio-9p"), std::string::npos);
}

} // namespace
