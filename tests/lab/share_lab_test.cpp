// lab_share: host directories shared with real guests through libhusk's SandboxOptions::mounts
// (virtio-9p served by husk-vmm, mounted by husk-init), jailed as the SDK does as root. One
// sandbox with a writable and a read-only share runs the file operations, the large files
// (sha256 compared both ways), an untar + find + grep -r of a small-file tree, the escape
// attempts as guest root and the read-only refusals; a second sandbox shares the read-only
// directory with it.
#include "tests/lab/sdk_lab_support.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using husk_lab::shell;

namespace {

std::string read_all(fs::path const& path)
{
    std::ifstream in(path, std::ios::binary);
    return { std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>() };
}

std::string host_sha256(fs::path const& path)
{
    auto [status, out] = shell("sha256sum '" + path.string() + "'");
    return status == 0 ? out.substr(0, 64) : "sha256sum failed";
}

// The full sizes (a 256 MiB dense file, a 5000-file tree) take about 15 minutes in the
// TCG lab, where every 9P request costs milliseconds (tar takes some 90 ms per file it creates);
// CI runs 32 MiB and 300 files, and HUSK_SHARE_LAB_FULL=1 runs the full sizes.
bool full_sizes()
{
    char const* full = std::getenv("HUSK_SHARE_LAB_FULL");
    return full && std::string(full) == "1";
}
uint64_t dense_bytes() { return full_sizes() ? 256ull << 20 : 32ull << 20; }
int tree_directories() { return full_sizes() ? 50 : 10; }
int files_per_directory() { return full_sizes() ? 100 : 30; }

class ShareLab : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        std::string pattern = "/tmp/husk-share-lab-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        top = pattern;
        rw = top / "rw";
        ro = top / "ro";
        outside = top / "outside";
        fs::create_directories(rw);
        fs::create_directories(ro);
        fs::create_directories(outside);
        // The jailed VMM runs as a uid of its own: it must be able to write the writable share.
        fs::permissions(rw, fs::perms::all);
        fs::permissions(top, fs::perms::all);
        std::ofstream(ro / "input.txt") << "read-only input\n";
        std::ofstream(outside / "secret") << "host secret\n";
        fs::create_symlink(outside, rw / "abs");
        fs::create_symlink("../outside/secret", rw / "up");

        // 64 MiB of guest RAM: on the lab's tmpfs, what the jailed VMM writes into the share is
        // charged to its memory cgroup (limit: guest RAM + 256 MiB), the 256 MiB copy included.
        auto options = husk_lab::lab_options();
        options.memory_bytes = 64ull << 20;
        options.mounts = { { rw.string(), "/mnt/rw", false }, { ro.string(), "/mnt/ro", true } };
        auto created = husk::Sandbox::create(options);
        ASSERT_TRUE(created) << created.error().message;
        sandbox.emplace(std::move(*created));
    }
    static void TearDownTestSuite()
    {
        sandbox.reset();
        std::error_code ignored;
        fs::remove_all(top, ignored);
    }

    // Runs `script` with sh as root in the guest; returns stdout, failing the test on a non-zero
    // status (stderr shown).
    static std::string guest(std::string const& script, bool must_succeed = true)
    {
        husk::RunOptions options;
        options.timeout = std::chrono::minutes(15);
        auto result = sandbox->run({ "/bin/sh", "-c", script }, options);
        EXPECT_TRUE(result) << (result ? "" : result.error().message);
        if (!result)
            return {};
        if (must_succeed) {
            EXPECT_TRUE(result->ok()) << "script: " << script << "\nstdout: " << result->stdout_data
                                      << "\nstderr: " << result->stderr_data;
        }
        return result->stdout_data;
    }

    static inline fs::path top, rw, ro, outside;
    static inline std::optional<husk::Sandbox> sandbox;
};

TEST_F(ShareLab, FileOperations_ShowOnTheHostOwnedByTheJailUid)
{
    guest("set -e; cd /mnt/rw; mkdir -p d/e; echo one > d/e/f; mv d/e/f d/g; echo two >> d/g; "
          "echo gone > x; rm x; ln -s g d/link; echo data > t; chmod 640 t; truncate -s 2 t; "
          "echo synced > s; dd if=s of=s2 conv=fsync 2>/dev/null; sync; rmdir d/e; readlink d/link");
    EXPECT_EQ(read_all(rw / "d" / "g"), "one\ntwo\n");
    EXPECT_FALSE(fs::exists(rw / "d" / "e"));
    EXPECT_FALSE(fs::exists(rw / "x"));
    EXPECT_EQ(fs::read_symlink(rw / "d" / "link"), "g");
    EXPECT_EQ(read_all(rw / "t"), "da");
    EXPECT_EQ(read_all(rw / "s2"), "synced\n");
    struct stat st { };
    ASSERT_EQ(::stat((rw / "t").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    uint32_t expected_owner = sandbox->jailed() ? sandbox->jail_uid() : ::geteuid();
    EXPECT_EQ(st.st_uid, expected_owner) << "guest root's files belong to the VMM's user on the host";
    // And the guest reads what the host writes, at once for a new file.
    std::ofstream(rw / "from-host") << "host wrote this\n";
    EXPECT_EQ(guest("cat /mnt/rw/from-host"), "host wrote this\n");
}

TEST_F(ShareLab, LargeFiles_Sha256MatchesBothWays)
{
    // The lab's CPU is emulated (TCG, with the guest nested under it): hashing costs about a
    // minute per 256 MiB there. So the 256 MiB dense file is hashed once on each side per
    // direction, and of each 1 GiB sparse file the size, the allocation and the MiB that holds
    // data are compared (a hash of all of it would be 4 more minutes of zeroes).
    ASSERT_EQ(
        shell("head -c " + std::to_string(dense_bytes()) + " /dev/urandom > '" + (rw / "dense").string() + "'").first,
        0);
    std::string dense_sum = host_sha256(rw / "dense");
    auto sums = guest("cd /mnt/rw && sha256sum dense");
    EXPECT_EQ(sums, dense_sum + "  dense\n") << "host -> guest";
    guest("cp /mnt/rw/dense /mnt/rw/dense-copy && rm /mnt/rw/dense");
    EXPECT_EQ(host_sha256(rw / "dense-copy"), dense_sum) << "guest -> host";
    fs::remove(rw / "dense-copy");

    ASSERT_EQ(shell("truncate -s 1G '" + (rw / "sparse").string() + "' && printf middle | dd of='"
                  + (rw / "sparse").string() + "' bs=1 seek=536870912 conv=notrunc 2>/dev/null")
                  .first,
        0);
    auto host_middle = shell("dd if='" + (rw / "sparse").string() + "' bs=1M skip=512 count=1 2>/dev/null | sha256sum");
    auto guest_middle
        = guest("stat -c %s /mnt/rw/sparse; dd if=/mnt/rw/sparse bs=1M skip=512 count=1 2>/dev/null | sha256sum");
    EXPECT_EQ(guest_middle, "1073741824\n" + host_middle.second) << "host -> guest";
    guest("set -e; cd /mnt/rw; truncate -s 1G sparse-guest; "
          "printf tail | dd of=sparse-guest bs=1 seek=1073741820 conv=notrunc 2>/dev/null");
    EXPECT_EQ(fs::file_size(rw / "sparse-guest"), 1ull << 30);
    struct stat st { };
    ASSERT_EQ(::stat((rw / "sparse-guest").c_str(), &st), 0);
    EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, 1ull << 20) << "the guest's sparse file stayed sparse";
    auto tail = shell("tail -c 4 '" + (rw / "sparse-guest").string() + "'");
    EXPECT_EQ(tail.second, "tail") << "guest -> host";
    fs::remove(rw / "sparse");
    fs::remove(rw / "sparse-guest");
}

TEST_F(ShareLab, SmallFileTree_UntarFindGrep)
{
    fs::path source = top / "tree-source";
    for (int d = 0; d < tree_directories(); ++d) {
        fs::create_directories(source / ("dir" + std::to_string(d)));
        for (int f = 0; f < files_per_directory(); ++f) {
            std::ofstream(source / ("dir" + std::to_string(d)) / ("file" + std::to_string(f) + ".c"))
                << "int f" << f << "(void) { return " << d << "; }\n"
                << (f == 7 ? "// needle\n" : "");
        }
    }
    ASSERT_EQ(shell("tar -C '" + source.string() + "' -cf '" + (rw / "tree.tar").string() + "' .").first, 0);
    auto out = guest("set -e; mkdir /mnt/rw/tree; tar -xf /mnt/rw/tree.tar -C /mnt/rw/tree; "
                     "find /mnt/rw/tree -type f | wc -l; grep -r needle /mnt/rw/tree | wc -l");
    int files = tree_directories() * files_per_directory();
    EXPECT_EQ(out, std::to_string(files) + "\n" + std::to_string(tree_directories()) + "\n");
    size_t host_files = 0;
    for (auto const& entry : fs::recursive_directory_iterator(rw / "tree"))
        host_files += entry.is_regular_file();
    EXPECT_EQ(host_files, static_cast<size_t>(files));
    EXPECT_EQ(read_all(rw / "tree" / "dir9" / "file7.c"), "int f7(void) { return 9; }\n// needle\n");
}

TEST_F(ShareLab, EscapeAttemptsAsGuestRoot_GetNothingOutside)
{
    auto out = guest("cd /mnt/rw; "
                     // Host symlinks are resolved by the guest, in the guest's own tree.
                     "cat abs/secret 2>/dev/null; cat up 2>/dev/null; cat ../outside/secret 2>/dev/null; "
                     // Special files cannot be created on the host.
                     "mknod dev c 1 3 2>/dev/null && echo MKNOD; mkfifo fifo 2>/dev/null && echo MKFIFO; "
                     // A set-user-ID binary, and ownership changes: not on the host.
                     "cp /bin/busybox suid; chmod 4755 suid; chown 1234:1234 suid; "
                     // A hard link to a file outside the share (the guest's own root) cannot be made.
                     "ln /etc/passwd passwd-link 2>/dev/null && echo LINKED; "
                     "echo done",
        false);
    EXPECT_EQ(out, "done\n");
    EXPECT_EQ(read_all(outside / "secret"), "host secret\n");
    EXPECT_FALSE(fs::exists(rw / "dev"));
    EXPECT_FALSE(fs::exists(rw / "fifo"));
    struct stat st { };
    ASSERT_EQ(::stat((rw / "suid").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07000, 0u) << "set-id bits never reach the host";
    EXPECT_EQ(st.st_uid, sandbox->jailed() ? sandbox->jail_uid() : ::geteuid());
    size_t outside_entries = 0;
    for ([[maybe_unused]] auto const& entry : fs::directory_iterator(outside))
        ++outside_entries;
    EXPECT_EQ(outside_entries, 1u);
}

TEST_F(ShareLab, ReadOnlyShare_RefusesWritesEvenRemountedReadWrite)
{
    EXPECT_EQ(guest("cat /mnt/ro/input.txt"), "read-only input\n");
    auto out = guest("echo x > /mnt/ro/new 2>/dev/null || echo refused; "
                     "mount -o remount,rw /mnt/ro && echo remounted; "
                     "echo x > /mnt/ro/new2 2>&1 || true; touch /mnt/ro/input.txt 2>&1 || true; "
                     "rm /mnt/ro/input.txt 2>&1 || true; mkdir /mnt/ro/d 2>&1 || true",
        false);
    EXPECT_NE(out.find("refused"), std::string::npos) << out;
    EXPECT_NE(out.find("Read-only file system"), std::string::npos) << out;
    EXPECT_EQ(read_all(ro / "input.txt"), "read-only input\n");
    EXPECT_FALSE(fs::exists(ro / "new"));
    EXPECT_FALSE(fs::exists(ro / "new2"));
    EXPECT_FALSE(fs::exists(ro / "d"));
}

TEST_F(ShareLab, TwoSandboxes_ShareOneReadOnlyDirectory)
{
    auto options = husk_lab::lab_options();
    options.mounts = { { ro.string(), "/data", true } };
    auto second = husk::Sandbox::create(options);
    ASSERT_TRUE(second) << second.error().message;
    auto theirs = second->run({ "cat", "/data/input.txt" });
    ASSERT_TRUE(theirs) << theirs.error().message;
    EXPECT_EQ(theirs->stdout_data, "read-only input\n");
    EXPECT_EQ(guest("cat /mnt/ro/input.txt"), "read-only input\n");
    auto write = second->run({ "/bin/sh", "-c", "echo x > /data/new" });
    ASSERT_TRUE(write);
    EXPECT_FALSE(write->ok());
    EXPECT_FALSE(fs::exists(ro / "new"));
}

} // namespace
