// A shared directory in the jail, for real, in forked children (root needed; skipped otherwise):
// bind-mounted into the jail root with the jail's own procfs, reopened from inside the root once
// pivoted (ShareRoot::reopen_in_jail), ".." from the served descriptors cannot leave the jail
// root, while a descriptor opened at the host path before the pivot could (the reason for it).
#include "runtime/jail/jail_root.hpp"
#include "runtime/jail/namespaces.hpp"
#include "runtime/share/share_root.hpp"
#include "tests/unit/runtime/jail/seccomp_child.hpp"

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>

using namespace husk;
using namespace husk::testing_jail;

namespace {
class JailShareTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (::geteuid() != 0)
            GTEST_SKIP() << "SKIPPING: the jail needs root (namespaces, mounts)";
        std::string pattern = (std::filesystem::temp_directory_path() / "husk-jail-share-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        s_dir = pattern;
        std::filesystem::create_directory(s_dir + "/parent");
        std::filesystem::create_directory(s_dir + "/shared");
        std::ofstream(s_dir + "/shared/inside") << "inside";
        std::ofstream(s_dir + "/outside-marker") << "host file next to the share";
    }
    void TearDown() override
    {
        if (s_dir.empty())
            return;
        (void)remove_jail_directory(s_dir + "/parent", "vm1");
        std::error_code ignored;
        std::filesystem::remove_all(s_dir, ignored);
    }

    // Same inode as `path` (resolved in the child's current root)?
    static bool same_file(int fd, char const* path)
    {
        struct stat a {
        }, b {};
        return ::fstat(fd, &a) == 0 && ::stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
    }

    static inline std::string s_dir;
};
} // namespace

TEST_F(JailShareTest, ReopenedInTheJail_DotDotStopsAtTheJailRoot)
{
    auto end = run_in_child([] {
        if (!enter_namespaces({}))
            return 1;
        auto root = JailRoot::create(s_dir + "/parent", "vm1", { 40123, 40123 });
        if (!root || !root->add_mount({ s_dir + "/shared", "shares/data", JailMount::Access::ReadWrite })
            || !root->mount_proc("proc"))
            return 2;
        auto share = ShareRoot::open(s_dir + "/shared", ShareAccess::ReadWrite, { 0, 0 }, ShareOwnership::Guest);
        if (!share)
            return 3;
        // The threat: a descriptor opened at the host path before the pivot.
        int host_opened = ::open((s_dir + "/shared").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        int root_number = share->root_fd();
        if (host_opened < 0 || !root->pivot())
            return 4;
        if (::openat(host_opened, "../outside-marker", O_RDONLY | O_CLOEXEC) < 0)
            return 5; // it did lead out: what reopening inside the jail prevents
        if (!share->reopen_in_jail("/shares/data", "/proc/self/fd") || share->root_fd() != root_number)
            return 6;
        // Climbing as far as it goes ends at the jail's "/", never above.
        int up = ::openat(share->root_fd(), "../../../../..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (up < 0 || !same_file(up, "/"))
            return 7;
        if (::openat(share->root_fd(), "../outside-marker", O_RDONLY | O_CLOEXEC) >= 0 || errno != ENOENT)
            return 8;
        if (::openat(share->root_fd(), "inside", O_RDONLY | O_CLOEXEC) < 0)
            return 9;
        // The jail's procfs has no global files, and its ".." is the jail root too.
        for (char const* global : { "../../sysrq-trigger", "../../sys", "../../kcore", "../../../etc" }) {
            if (::openat(share->proc_fds(), global, O_PATH | O_CLOEXEC) >= 0)
                return 10;
        }
        int proc_up = ::openat(share->proc_fds(), "../../../../..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc_up < 0 || !same_file(proc_up, "/"))
            return 11;
        return 0;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe() << " (exit code = failing step)";
}

TEST_F(JailShareTest, ReopenAtAnotherDirectory_IsRefused)
{
    auto end = run_in_child([] {
        if (!enter_namespaces({}))
            return 1;
        std::filesystem::create_directory(s_dir + "/other");
        auto root = JailRoot::create(s_dir + "/parent", "vm1", { 40123, 40123 });
        if (!root || !root->add_mount({ s_dir + "/other", "shares/data", JailMount::Access::ReadOnly })
            || !root->mount_proc("proc"))
            return 2;
        auto share = ShareRoot::open(s_dir + "/shared", ShareAccess::ReadOnly, { 0, 0 });
        if (!share || !root->pivot())
            return 3;
        auto reopened = share->reopen_in_jail("/shares/data", "/proc/self/fd");
        if (reopened || reopened.error().message.find("not the directory") == std::string::npos)
            return 4;
        return 0;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe() << " (exit code = failing step)";
}
