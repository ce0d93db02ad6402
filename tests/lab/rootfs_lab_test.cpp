// lab_share, the guest's root from a host directory (SandboxOptions::rootfs_dir, `husk run
// --rootfs DIR`, husk-vmm --rootfs DIR[,rw]): the debian-python image unpacked into a directory
// (debugfs rdump: no mount, owners and modes kept) is booted jailed, as the SDK does as root.
// Read-only, python3 runs and the guest's writes land in its private overlay while the host tree
// stays byte for byte the same; with `,rw` the writes reach the host directory owned by the jail
// uid; malformed values are refused before any guest runs.
#include "tests/lab/sdk_lab_support.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using husk_lab::shell;

namespace {

std::string const debian_image = std::string(HUSK_ASSETS_DIR) + "/debian-python.ext4";

// Every path with its type, size, mode, owner and modification time, hashed: equal before and
// after a boot means the guest changed nothing in the tree (atime is left out on purpose).
std::string tree_fingerprint(fs::path const& root)
{
    auto [status, out]
        = shell("cd '" + root.string() + "' && find . -printf '%p %y %s %m %U %G %T@ %l\\n' | sort | sha256sum");
    return status == 0 ? out : "find failed";
}

class RootfsLab : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        std::string pattern = "/tmp/husk-rootfs-lab-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        top = pattern;
        fs::permissions(top, fs::perms::all);
    }
    static void TearDownTestSuite()
    {
        std::error_code ignored;
        fs::remove_all(top, ignored);
    }

    // The debian-python image unpacked into top/<name>.
    static fs::path unpack(std::string const& name)
    {
        fs::path root = top / name;
        fs::create_directories(root);
        if (!fs::exists(debian_image)) {
            ADD_FAILURE() << debian_image
                          << " missing: build it with packaging/rootfs/build.sh debian-python (as root)";
            return root;
        }
        auto [status, out] = shell("debugfs -R 'rdump / " + root.string() + "' '" + debian_image + "' 2>&1");
        EXPECT_EQ(status, 0) << out;
        EXPECT_TRUE(fs::exists(root / "usr/bin/python3")) << "debugfs rdump left no python3: " << out;
        return root;
    }

    static husk::RunResult run(husk::Sandbox& sandbox, std::string const& script)
    {
        husk::RunOptions options;
        options.timeout = std::chrono::minutes(5);
        auto result = sandbox.run({ "/bin/sh", "-c", script }, options);
        EXPECT_TRUE(result) << (result ? "" : result.error().message);
        return result ? *result : husk::RunResult {};
    }

    static inline fs::path top;
};

} // namespace

TEST_F(RootfsLab, ReadOnlyDirectory_RunsPythonAndKeepsWritesInTheGuest)
{
    auto root = unpack("ro-root");
    auto before = tree_fingerprint(root);
    auto options = husk_lab::lab_options();
    options.rootfs_dir = root.string();
    auto sandbox = husk::Sandbox::create(options);
    ASSERT_TRUE(sandbox) << sandbox.error().message;

    auto python = run(*sandbox, "python3 -c 'import sys; print(6 * 7, sys.version_info[0])'");
    auto writes = run(*sandbox,
        "set -e; echo guest > /etc/husk-written; echo new > /husk-new; rm /etc/hostname; "
        "mkdir /usr/husk-dir; cat /etc/husk-written; test ! -e /etc/hostname; grep -c ' / overlay ' /proc/mounts");
    EXPECT_TRUE(sandbox->shutdown());

    EXPECT_TRUE(python.ok()) << python.stderr_data;
    EXPECT_EQ(python.stdout_data, "42 3\n");
    EXPECT_TRUE(writes.ok()) << writes.stderr_data;
    EXPECT_EQ(writes.stdout_data, "guest\n1\n") << "the root is an overlay and the guest sees its own writes";
    EXPECT_FALSE(fs::exists(root / "etc/husk-written"));
    EXPECT_FALSE(fs::exists(root / "husk-new"));
    EXPECT_TRUE(fs::exists(root / "etc/hostname"));
    EXPECT_EQ(tree_fingerprint(root), before) << "the host directory changed under a read-only root";
}

TEST_F(RootfsLab, WritableDirectory_WritesReachTheHostOwnedByTheJailUid)
{
    auto root = unpack("rw-root");
    // The jailed VMM writes as its own uid: the directory must be writable by it (docs/sharing.md).
    fs::permissions(root, fs::perms::all);
    auto options = husk_lab::lab_options();
    options.rootfs_dir = root.string();
    options.rootfs_writes = husk::RootfsWrites::InPlace;
    auto sandbox = husk::Sandbox::create(options);
    ASSERT_TRUE(sandbox) << sandbox.error().message;

    auto python = run(*sandbox,
        "python3 -c \"open('/from-guest.txt', 'w').write('written in place\\n')\" && "
        "mkdir /guest-dir && echo inner > /guest-dir/f && cat /from-guest.txt");
    // Root-owned host files stay the host's: the jail uid may not change them.
    auto refused = run(*sandbox, "echo x > /etc/husk-refused");
    bool jailed = sandbox->jailed();
    uint32_t owner = jailed ? sandbox->jail_uid() : ::geteuid();
    EXPECT_TRUE(sandbox->shutdown());

    EXPECT_TRUE(python.ok()) << python.stderr_data;
    EXPECT_EQ(python.stdout_data, "written in place\n");
    std::ifstream written(root / "from-guest.txt");
    std::string text((std::istreambuf_iterator<char>(written)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, "written in place\n");
    struct stat st { };
    ASSERT_EQ(::stat((root / "from-guest.txt").c_str(), &st), 0);
    EXPECT_TRUE(jailed) << "the lab runs as root, so the SDK jails";
    EXPECT_EQ(st.st_uid, owner) << "guest root's files belong to the jail uid on the host";
    ASSERT_EQ(::stat((root / "guest-dir/f").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, owner);
    EXPECT_FALSE(refused.ok());
    EXPECT_NE(refused.stderr_data.find("Permission denied"), std::string::npos) << refused.stderr_data;
    EXPECT_FALSE(fs::exists(root / "etc/husk-refused"));
}

TEST_F(RootfsLab, CliDirectoryRoot_RunsPython)
{
    auto root = unpack("cli-root");
    auto [status, out] = shell(std::string(HUSK_CLI_PATH) + " run -q --boot-timeout 60s --rootfs '" + root.string()
        + "' -- python3 -c 'import os; print(os.path.exists(\"/usr/bin/python3\"), 6 * 7)' 2>&1");
    EXPECT_EQ(status, 0) << out;
    EXPECT_EQ(out, "True 42\n");
}

TEST_F(RootfsLab, MalformedRootfs_IsRefusedBeforeAnyGuestRuns)
{
    auto root = top / "empty-root";
    fs::create_directories(root);
    // husk-vmm itself: one line, usage status 2.
    auto [vmm_status, vmm_out] = shell(std::string(HUSK_VMM_PATH) + " --kernel " + HUSK_ASSETS_DIR
        + "/vmlinux --rootfs '" + root.string() + ",rx' -- /bin/true 2>&1");
    EXPECT_EQ(vmm_status, 2) << vmm_out;
    EXPECT_NE(vmm_out.find("expected DIR or DIR,rw"), std::string::npos) << vmm_out;
    EXPECT_EQ(vmm_out.find('\n'), vmm_out.size() - 1) << "one line: " << vmm_out;
    auto [relative_status, relative_out] = shell(
        std::string(HUSK_VMM_PATH) + " --kernel " + HUSK_ASSETS_DIR + "/vmlinux --rootfs relative -- /bin/true 2>&1");
    EXPECT_EQ(relative_status, 2) << relative_out;
    // A directory that is not there: husk-vmm stops before booting, saying which.
    auto [missing_status, missing_out]
        = shell(std::string(HUSK_VMM_PATH) + " --kernel " + HUSK_ASSETS_DIR + "/vmlinux --initrd " + HUSK_ASSETS_DIR
            + "/initramfs.cpio --rootfs " + (top / "missing").string() + " -- /bin/true 2>&1");
    EXPECT_NE(missing_status, 0) << missing_out;
    EXPECT_NE(missing_out.find((top / "missing").string()), std::string::npos) << missing_out;
    // The CLI: ,rw on something that is not a directory.
    auto [cli_status, cli_out]
        = shell(std::string(HUSK_CLI_PATH) + " run --rootfs " + (top / "missing").string() + ",rw -- true 2>&1");
    EXPECT_EQ(cli_status, 125) << cli_out;
    EXPECT_NE(cli_out.find("not one"), std::string::npos) << cli_out;
    // The SDK: a relative directory.
    auto options = husk_lab::lab_options();
    options.rootfs_dir = "relative/root";
    auto sandbox = husk::Sandbox::create(options);
    ASSERT_FALSE(sandbox);
    EXPECT_EQ(sandbox.error().kind, husk::ErrorKind::BadConfig);
}
