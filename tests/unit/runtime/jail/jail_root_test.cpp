// JailRoot and the namespaces, for real, in forked children (root needed; skipped otherwise):
// the pivoted root holds only the expected entries, read-only mounts refuse writes, devices
// work, symlinks are refused wherever the jail creates or opens something, the new network
// namespace has only loopback, a new PID namespace hides host processes, and the directory is
// removed afterwards.
#include "runtime/jail/jail_root.hpp"
#include "runtime/jail/namespaces.hpp"
#include "tests/unit/runtime/jail/seccomp_child.hpp"

#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <net/if.h>
#include <set>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

using namespace husk;
using namespace husk::testing_jail;

namespace {
std::set<std::string> list(char const* path)
{
    std::set<std::string> names;
    if (DIR* directory = ::opendir(path)) {
        while (auto* entry = ::readdir(directory)) {
            std::string name = entry->d_name;
            if (name != "." && name != "..")
                names.insert(name);
        }
        ::closedir(directory);
    }
    return names;
}

class JailRootTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (::geteuid() != 0)
            GTEST_SKIP() << "SKIPPING: the jail needs root (namespaces, mounts)";
        std::string pattern = (std::filesystem::temp_directory_path() / "husk-jail-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        m_dir = pattern;
        std::filesystem::create_directory(m_dir / "parent");
        std::ofstream(m_dir / "disk.img") << "disk contents";
    }
    void TearDown() override
    {
        if (!m_dir.empty()) {
            std::error_code ignored;
            std::filesystem::remove_all(m_dir, ignored);
        }
    }
    std::string parent() const { return (m_dir / "parent").string(); }
    std::string host(char const* name) const { return (m_dir / name).string(); }

    std::filesystem::path m_dir;
};
} // namespace

TEST_F(JailRootTest, PivotedJail_HoldsOnlyItsMounts)
{
    static std::string parent_path, image;
    parent_path = parent();
    image = host("disk.img");
    auto end = run_in_child([] {
        if (!enter_namespaces({}))
            return 1;
        auto root = JailRoot::create(parent_path, "vm1", { 40123, 40123 });
        if (!root)
            return 2;
        if (!root->add_mount({ image, "images/disk.img", JailMount::Access::ReadOnly })
            || !root->add_mount({ "/dev/null", "dev/null", JailMount::Access::ReadWrite }))
            return 3;
        if (!root->pivot())
            return 4;
        if (list("/") != std::set<std::string> { "images", "dev" } || list("/dev") != std::set<std::string> { "null" })
            return 5;
        char buffer[32] {};
        int image_fd = ::open("/images/disk.img", O_RDONLY);
        if (image_fd < 0 || ::read(image_fd, buffer, sizeof buffer) != 13)
            return 6;
        if (::open("/images/disk.img", O_WRONLY) >= 0 || errno != EROFS)
            return 7;
        int null_fd = ::open("/dev/null", O_WRONLY);
        if (null_fd < 0 || ::write(null_fd, "x", 1) != 1)
            return 8;
        if (::access("/etc", F_OK) == 0 || ::access("/proc", F_OK) == 0)
            return 9;
        return 0;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
    // The host sees the empty mount points only, and the cleanup removes them.
    EXPECT_TRUE(std::filesystem::exists(parent() + "/vm1/images/disk.img"));
    auto removed = remove_jail_directory(parent(), "vm1");
    EXPECT_TRUE(removed) << removed.error().message;
    EXPECT_FALSE(std::filesystem::exists(parent() + "/vm1"));
    std::ifstream image_after(host("disk.img"));
    std::string contents;
    std::getline(image_after, contents);
    EXPECT_EQ(contents, "disk contents");
}

TEST_F(JailRootTest, ExistingRoot_Refused)
{
    std::filesystem::create_directory(parent() + "/vm1");

    auto root = JailRoot::create(parent(), "vm1", { 40123, 40123 });

    ASSERT_FALSE(root);
    EXPECT_NE(root.error().message.find("leftover"), std::string::npos) << root.error().message;
}

TEST_F(JailRootTest, SymlinkAsMountSource_Refused)
{
    std::filesystem::create_symlink("/etc/passwd", host("link"));
    static std::string parent_path, link;
    parent_path = parent();
    link = host("link");
    auto end = run_in_child([] {
        if (!enter_namespaces({}))
            return 1;
        auto root = JailRoot::create(parent_path, "vm1", { 40123, 40123 });
        if (!root)
            return 2;
        return root->add_mount({ link, "passwd", JailMount::Access::ReadOnly }) ? 3 : 0;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
    EXPECT_TRUE(remove_jail_directory(parent(), "vm1"));
}

TEST_F(JailRootTest, SymlinkPlantedInsideTheRoot_NotFollowed)
{
    static std::string parent_path, image;
    parent_path = parent();
    image = host("disk.img");
    auto end = run_in_child([] {
        if (!enter_namespaces({}))
            return 1;
        auto root = JailRoot::create(parent_path, "vm1", { 40123, 40123 });
        if (!root)
            return 2;
        // Someone with access to the jail directory swaps in a link to a host directory.
        if (::symlink("/etc", (root->path() + "/images").c_str()) != 0)
            return 3;
        return root->add_mount({ image, "images/disk.img", JailMount::Access::ReadOnly }) ? 4 : 0;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
    EXPECT_FALSE(std::filesystem::exists("/etc/disk.img"));
    EXPECT_TRUE(remove_jail_directory(parent(), "vm1"));
}

TEST_F(JailRootTest, CleanupWithSymlinkInside_RemovesTheLinkNotItsTarget)
{
    std::filesystem::create_directories(parent() + "/vm1/dir");
    std::ofstream(host("keep")) << "keep";
    std::filesystem::create_symlink(host("keep"), parent() + "/vm1/dir/link");
    std::filesystem::create_directory_symlink(m_dir, parent() + "/vm1/up");

    auto removed = remove_jail_directory(parent(), "vm1");

    EXPECT_TRUE(removed) << removed.error().message;
    EXPECT_FALSE(std::filesystem::exists(parent() + "/vm1"));
    EXPECT_TRUE(std::filesystem::exists(host("keep")));
    EXPECT_TRUE(std::filesystem::exists(host("disk.img")));
}

TEST_F(JailRootTest, CleanupOnOverlayfs_RemovesFilesAndSockets)
{
    // On overlayfs a file's st_dev differs from its directory's with no mount in between: the
    // cleanup must go by mount, or it refuses every jail root on such a parent.
    static std::string base;
    base = m_dir.string();
    auto end = run_in_child([] {
        if (!enter_namespaces({}))
            return 1;
        // The layers on different filesystems, as in the lab (9p below, tmpfs above).
        for (char const* name : { "/lower", "/layers", "/merged" })
            std::filesystem::create_directory(base + name);
        if (::mount("tmpfs", (base + "/layers").c_str(), "tmpfs", 0, nullptr) != 0)
            return 6;
        std::filesystem::create_directory(base + "/layers/upper");
        std::filesystem::create_directory(base + "/layers/work");
        auto options
            = "lowerdir=" + base + "/lower,upperdir=" + base + "/layers/upper,workdir=" + base + "/layers/work";
        if (::mount("overlay", (base + "/merged").c_str(), "overlay", 0, options.c_str()) != 0)
            return 2;
        std::filesystem::create_directories(base + "/merged/vm1/dir");
        std::ofstream(base + "/merged/vm1/dir/file") << "x";
        Fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un address {};
        address.sun_family = AF_UNIX;
        std::string socket_path = base + "/merged/vm1/vsock.sock_5000";
        socket_path.copy(address.sun_path, sizeof address.sun_path - 1);
        if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
            return 3;
        auto removed = remove_jail_directory(base + "/merged", "vm1");
        if (!removed) {
            std::fprintf(stderr, "%s\n", removed.error().message.c_str());
            return 4;
        }
        return std::filesystem::exists(base + "/merged/vm1") ? 5 : 0;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

TEST_F(JailRootTest, CleanupWithAMountInside_RefusesIt)
{
    static std::string parent_path;
    parent_path = parent();
    auto end = run_in_child([] {
        if (!enter_namespaces({}))
            return 1;
        std::filesystem::create_directories(parent_path + "/vm1/mounted");
        if (::mount("tmpfs", (parent_path + "/vm1/mounted").c_str(), "tmpfs", 0, nullptr) != 0)
            return 2;
        std::ofstream(parent_path + "/vm1/mounted/on-the-mount") << "x";
        auto removed = remove_jail_directory(parent_path, "vm1");
        if (removed)
            return 3;
        if (removed.error().message.find("another mount") == std::string::npos)
            return 4;
        return std::filesystem::exists(parent_path + "/vm1/mounted/on-the-mount") ? 0 : 5;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

TEST_F(JailRootTest, CleanupOfMissingDirectory_Succeeds)
{
    EXPECT_TRUE(remove_jail_directory(parent(), "never-created"));
}

TEST_F(JailRootTest, NewNetworkNamespace_OnlyLoopback)
{
    auto end = run_in_child([] {
        if (!enter_namespaces({}))
            return 1;
        auto* interfaces = ::if_nameindex();
        if (interfaces == nullptr)
            return 2;
        int count = 0;
        bool only_loopback = true;
        for (auto* interface = interfaces; interface->if_index != 0; ++interface) {
            ++count;
            only_loopback = only_loopback && std::string(interface->if_name) == "lo";
        }
        ::if_freenameindex(interfaces);
        return count == 1 && only_loopback ? 0 : 3;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

TEST_F(JailRootTest, JoinWhatIsNotANetworkNamespace_Refused)
{
    auto end = run_in_child([] {
        auto entered = enter_namespaces({ "/proc/self/ns/ipc" });
        return !entered && entered.error().message.find("not a network namespace") != std::string::npos ? 0 : 1;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

TEST_F(JailRootTest, NewPidNamespace_ChildIsPidOne)
{
    auto end = run_in_child([] {
        if (!enter_pid_namespace())
            return 1;
        auto child = run_in_child([] { return ::getpid() == 1 ? 0 : 1; });
        return child.exited_with(0) ? 0 : 2;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}
