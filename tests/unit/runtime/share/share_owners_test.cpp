// ShareServer on a guest-owned share (ShareOwnership::Guest, runc's semantics): new files belong
// to the guest user whose attach they came through and to the group the request names, chown and
// set-ID bits are applied, a chown of a symlink to outside changes the link only, and a write by a
// guest user other than root clears set-user-ID and executable set-group-ID as the kernel does.
// The last tests run the server in a child holding only the share capabilities after the jail's
// uid drop: guest root writes root-owned directories and files, as in a container's rootfs.
#include "runtime/jail/capabilities.hpp"
#include "runtime/jail/identity.hpp"
#include "tests/unit/runtime/jail/seccomp_child.hpp"
#include "tests/unit/runtime/share/share_fixture.hpp"

using namespace husk;
using namespace husk::testing;
using namespace husk::testing_jail;
namespace msg = husk::p9::message;
namespace of = husk::p9::open_flag;

namespace {
struct stat host_stat(std::string const& path)
{
    struct stat st { };
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st;
}

class ShareOwners : public ShareServerTest {
protected:
    void SetUp() override
    {
        if (::geteuid() != 0)
            GTEST_SKIP() << "SKIPPING: files of other owners need root";
        ShareServerTest::SetUp();
        serve(ShareAccess::ReadWrite, ShareOwnership::Guest);
        // fid 10: the root as guest user 1234 sees it (Linux attaches once per user).
        ASSERT_TRUE(client->attach_as(10, 1234).ok(msg::tattach));
    }
    // A host file with this owner and mode, walked to as `fid` from the attach `from`.
    void host_file(std::string const& name, uid_t uid, mode_t mode, uint32_t from, uint32_t fid)
    {
        put(share + "/" + name, "program");
        ASSERT_EQ(::chown((share + "/" + name).c_str(), uid, uid), 0);
        ASSERT_EQ(::chmod((share + "/" + name).c_str(), mode), 0);
        ASSERT_EQ(P9TestClient::walked(client->walk(from, fid, { name })), 1);
    }
};
} // namespace

TEST_F(ShareOwners, Lcreate_OwnedByTheAttachedUserAndTheRequestedGroup)
{
    ASSERT_TRUE(client->walk(10, 11, {}).ok(msg::twalk));
    ASSERT_TRUE(client->lcreate(11, "mine", of::read_write, 0640, 5678).ok(msg::tlcreate));
    ASSERT_TRUE(client->write(11, 0, "data").ok(msg::twrite));

    auto st = host_stat(share + "/mine");
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 5678u);
    EXPECT_EQ(st.st_mode & 07777, 0640u); // exactly the guest's mode, whatever the server's umask
    EXPECT_EQ(contents(share + "/mine"), "data");
}

TEST_F(ShareOwners, GuestRoot_CreatesRootOwnedFiles)
{
    ASSERT_TRUE(client->walk(0, 1, {}).ok(msg::twalk));
    ASSERT_TRUE(client->lcreate(1, "by-root", of::write_only, 0600, 0).ok(msg::tlcreate));
    ASSERT_TRUE(client->mkdir(0, "root-dir", 0700, 0).ok(msg::tmkdir));

    EXPECT_EQ(host_stat(share + "/by-root").st_uid, 0u);
    EXPECT_EQ(host_stat(share + "/root-dir").st_uid, 0u);
    EXPECT_EQ(host_stat(share + "/root-dir").st_mode & 07777, 0700u);
}

TEST_F(ShareOwners, MkdirAndSymlink_OwnedByTheGuestUser_SetgidDirectoryKept)
{
    ASSERT_TRUE(client->mkdir(10, "shared", 02775, 99).ok(msg::tmkdir));
    ASSERT_TRUE(client->symlink(10, "link", "shared", 98).ok(msg::tsymlink));

    auto directory = host_stat(share + "/shared");
    EXPECT_EQ(directory.st_uid, 1234u);
    EXPECT_EQ(directory.st_gid, 99u);
    EXPECT_EQ(directory.st_mode & 07777, 02775u);
    auto link = host_stat(share + "/link");
    EXPECT_TRUE(S_ISLNK(link.st_mode));
    EXPECT_EQ(link.st_uid, 1234u);
    EXPECT_EQ(link.st_gid, 98u);
}

TEST_F(ShareOwners, Setattr_Chown_AppliesTheGuestIds)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);

    auto reply = client->setattr_owner(1, p9::setattr::uid | p9::setattr::gid, 0, 0, 4321, 8765);

    ASSERT_TRUE(reply.ok(msg::tsetattr)) << reply.error();
    auto st = host_stat(share + "/hello.txt");
    EXPECT_EQ(st.st_uid, 4321u);
    EXPECT_EQ(st.st_gid, 8765u);
    // Only the group: the owner stays.
    ASSERT_TRUE(client->setattr_owner(1, p9::setattr::gid, 0, 0, 0, 42).ok(msg::tsetattr));
    EXPECT_EQ(host_stat(share + "/hello.txt").st_uid, 4321u);
    EXPECT_EQ(host_stat(share + "/hello.txt").st_gid, 42u);
}

TEST_F(ShareOwners, ChownOfASymlinkToOutside_ChangesTheLinkNotTheTarget)
{
    ASSERT_EQ(::symlink((outside + "/secret").c_str(), (share + "/out").c_str()), 0);
    ASSERT_EQ(::symlink("../outside/secret", (share + "/up").c_str()), 0);
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "out" })), 1);
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 2, { "up" })), 1);

    EXPECT_TRUE(client->setattr_owner(1, p9::setattr::uid | p9::setattr::gid, 0, 0, 4321, 4321).ok(msg::tsetattr));
    EXPECT_TRUE(client->setattr_owner(2, p9::setattr::uid, 0, 0, 4321, 0).ok(msg::tsetattr));
    // A chmod through a link is refused, as before.
    EXPECT_EQ(client->setattr(1, p9::setattr::mode, 04777, 0).error(), EOPNOTSUPP);

    EXPECT_EQ(host_stat(share + "/out").st_uid, 4321u);
    EXPECT_EQ(host_stat(share + "/up").st_uid, 4321u);
    auto secret = host_stat(outside + "/secret");
    EXPECT_EQ(secret.st_uid, 0u);
    EXPECT_EQ(secret.st_gid, 0u);
    EXPECT_EQ(secret.st_mode & 07000, 0u);
    // ".." at the root is the root: a chown there changes the share's root, nothing above it.
    struct stat top_before = host_stat(top);
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 3, { "..", ".." })), 2);
    EXPECT_TRUE(client->setattr_owner(3, p9::setattr::uid, 0, 0, 4321, 0).ok(msg::tsetattr));
    EXPECT_EQ(host_stat(share).st_uid, 4321u);
    EXPECT_EQ(host_stat(top).st_uid, top_before.st_uid);
}

TEST_F(ShareOwners, SetuidRootProgram_CanBeMadeByGuestRoot)
{
    // runc's behaviour too: container root may create set-user-ID root programs in its rootfs.
    ASSERT_TRUE(client->walk(0, 1, {}).ok(msg::twalk));
    ASSERT_TRUE(client->lcreate(1, "su", of::write_only, 04755, 0).ok(msg::tlcreate));
    EXPECT_EQ(host_stat(share + "/su").st_mode & 07777, 04755u);
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 2, { "su" })), 1);
    ASSERT_TRUE(client->setattr(2, p9::setattr::mode, 06755, 0).ok(msg::tsetattr));
    EXPECT_EQ(host_stat(share + "/su").st_mode & 07777, 06755u);
}

TEST_F(ShareOwners, WriteByAnotherGuestUser_ClearsSetuidAndExecutableSetgid)
{
    host_file("su", 0, 06755, 10, 11);
    ASSERT_TRUE(client->lopen(11, of::write_only).ok(msg::tlopen));

    ASSERT_TRUE(client->write(11, 0, "changed").ok(msg::twrite));

    EXPECT_EQ(host_stat(share + "/su").st_mode & 07777, 0755u);
}

TEST_F(ShareOwners, ZeroCopyWriteByAnotherGuestUser_ClearsSetuidAndExecutableSetgid)
{
    host_file("su", 0, 06755, 10, 11);
    ASSERT_TRUE(client->lopen(11, of::write_only).ok(msg::tlopen));

    ASSERT_TRUE(client->write_in_place(11, 0, std::string(8192, 'x')).ok(msg::twrite));

    EXPECT_EQ(host_stat(share + "/su").st_mode & 07777, 0755u);
    EXPECT_EQ(host_stat(share + "/su").st_size, 8192);
}

TEST_F(ShareOwners, WriteByAnotherGuestUser_KeepsSetgidWithoutGroupExecute)
{
    host_file("locked", 0, 02644, 10, 11);
    ASSERT_TRUE(client->lopen(11, of::write_only).ok(msg::tlopen));

    ASSERT_TRUE(client->write(11, 0, "changed").ok(msg::twrite));

    EXPECT_EQ(host_stat(share + "/locked").st_mode & 07777, 02644u);
}

TEST_F(ShareOwners, WriteByGuestRoot_KeepsSetuid)
{
    host_file("su", 0, 04755, 0, 1);
    ASSERT_TRUE(client->lopen(1, of::write_only).ok(msg::tlopen));

    ASSERT_TRUE(client->write(1, 0, "patched").ok(msg::twrite));

    EXPECT_EQ(host_stat(share + "/su").st_mode & 07777, 04755u);
}

TEST_F(ShareOwners, ChownWithoutMode_KeepsTheModeTheGuestKernelLeft)
{
    host_file("su", 0, 04755, 0, 1);

    // Linux sends the mode with the owner when its chown clears set-ID bits; without one the
    // host's chown must not clear them behind the guest's back.
    ASSERT_TRUE(client->setattr_owner(1, p9::setattr::uid, 0, 0, 1000, 0).ok(msg::tsetattr));
    EXPECT_EQ(host_stat(share + "/su").st_mode & 07777, 04755u);
    ASSERT_TRUE(client->setattr_owner(1, p9::setattr::uid | p9::setattr::mode, 0755, 0, 1001, 0).ok(msg::tsetattr));
    auto st = host_stat(share + "/su");
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    EXPECT_EQ(st.st_uid, 1001u);
}

TEST_F(ShareOwners, AttachWithoutNumericUser_IsNobody)
{
    ASSERT_TRUE(client->attach_as(20, 0xffffffffu).ok(msg::tattach));
    ASSERT_TRUE(client->mkdir(20, "anon").ok(msg::tmkdir));
    EXPECT_EQ(host_stat(share + "/anon").st_uid, 65534u);
}

// In a child that dropped to the jail's kind of uid keeping only the share capabilities.
class ShareOwnersJailed : public ShareServerTest {
protected:
    void SetUp() override
    {
        if (::geteuid() != 0)
            GTEST_SKIP() << "SKIPPING: the jail's uid drop needs root";
        ShareServerTest::SetUp();
        std::filesystem::create_directory(share + "/etc");
        std::filesystem::create_directory(share + "/root");
        ASSERT_EQ(::chmod((share + "/root").c_str(), 0700), 0);
        put(share + "/etc/shadow", "root:*:");
        ASSERT_EQ(::chmod((share + "/etc/shadow").c_str(), 0600), 0);
    }

    ChildEnd serve_in_child(ShareOwnership ownership, std::function<int(P9TestClient&)> const& action)
    {
        return run_in_child([&]() -> int {
            auto root = ShareRoot::open(share, ShareAccess::ReadWrite, { 0, 0 }, ownership);
            if (!root)
                return 90;
            bool keep = ownership == ShareOwnership::Guest;
            if (keep && !keep_share_capabilities_across_drop())
                return 91;
            if (!drop_identity({ 40123, 40123 }))
                return 92;
            if (keep && !raise_share_capabilities())
                return 93;
            ShareServer server(std::move(root).value());
            P9TestClient client(server);
            client.attach();
            return action(client);
        });
    }
};

TEST_F(ShareOwnersJailed, GuestRoot_WritesRootOwnedDirectoriesAndFiles)
{
    auto end = serve_in_child(ShareOwnership::Guest, [](P9TestClient& client) -> int {
        if (P9TestClient::walked(client.walk(0, 1, { "root" })) != 1)
            return 1;
        if (!client.lcreate(1, ".profile", of::write_only, 0644, 0).ok(msg::tlcreate)
            || !client.write(1, 0, "export A=1\n").ok(msg::twrite))
            return 2;
        if (P9TestClient::walked(client.walk(0, 2, { "etc", "shadow" })) != 2
            || !client.lopen(2, of::read_write).ok(msg::tlopen) || !client.write(2, 0, "ROOT").ok(msg::twrite))
            return 3;
        if (!client.mkdir(0, "srv", 0755, 0).ok(msg::tmkdir))
            return 4;
        if (P9TestClient::walked(client.walk(0, 3, { "hello.txt" })) != 1
            || !client.setattr_owner(3, p9::setattr::uid | p9::setattr::gid, 0, 0, 1000, 1000).ok(msg::tsetattr))
            return 5;
        if (!client.unlinkat(0, "hello.txt").ok(msg::tunlinkat))
            return 6;
        return 0;
    });
    EXPECT_TRUE(end.exited_with(0)) << end.describe() << " (exit code = failing step)";

    auto profile = host_stat(share + "/root/.profile");
    EXPECT_EQ(profile.st_uid, 0u);
    EXPECT_EQ(profile.st_gid, 0u);
    EXPECT_EQ(contents(share + "/root/.profile"), "export A=1\n");
    EXPECT_EQ(contents(share + "/etc/shadow").substr(0, 4), "ROOT");
    EXPECT_EQ(host_stat(share + "/etc/shadow").st_mode & 07777, 0600u);
    EXPECT_EQ(host_stat(share + "/srv").st_uid, 0u);
    EXPECT_FALSE(exists(share + "/hello.txt"));
}

TEST_F(ShareOwnersJailed, ServerUserShare_WithoutCapabilities_CannotWriteRootOwnedFiles)
{
    auto end = serve_in_child(ShareOwnership::ServerUser, [](P9TestClient& client) -> int {
        if (P9TestClient::walked(client.walk(0, 1, { "etc" })) != 1)
            return 1;
        if (client.lcreate(1, "passwd", of::write_only, 0644, 0).error() != EACCES)
            return 2;
        if (P9TestClient::walked(client.walk(0, 2, { "etc", "shadow" })) != 2 || client.lopen(2, 0).error() != EACCES)
            return 3;
        return 0;
    });
    EXPECT_TRUE(end.exited_with(0)) << end.describe() << " (exit code = failing step)";
    EXPECT_FALSE(exists(share + "/etc/passwd"));
}
