// ShareServer against a hostile guest: every way out of the share the issue lists ("..",
// absolute and relative symlinks, a symlink swapped in during an operation, hard links, device
// nodes, FIFOs, sockets, /proc magic links) fails with the errno it should, and nothing outside
// the share is read or changed; on shares served with the server's and with the guest's owners.
#include "tests/unit/runtime/share/share_fixture.hpp"

#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

using namespace husk;
using namespace husk::testing;
namespace msg = husk::p9::message;
namespace of = husk::p9::open_flag;

// Every case holds for both ownerships: a guest-owned share's server acts with DAC override, so
// its confinement must not depend on permissions.
class ShareEscape : public ShareServerTest, public ::testing::WithParamInterface<ShareOwnership> {
protected:
    void SetUp() override
    {
        ShareServerTest::SetUp();
        serve(ShareAccess::ReadWrite, GetParam());
    }
    p9::Qid root_qid()
    {
        auto reply = client->getattr(0);
        auto r = reply.reader();
        r.u64();
        p9::Qid qid;
        qid.type = r.u8();
        qid.version = r.u32();
        qid.path = r.u64();
        return qid;
    }
    void expect_outside_untouched() { EXPECT_EQ(contents(outside + "/secret"), "outside secret"); }
};

TEST_P(ShareEscape, DotDotAtTheRoot_StaysAtTheRoot)
{
    auto reply = client->walk(0, 1, { "..", "..", ".." });
    ASSERT_EQ(P9TestClient::walked(reply), 3);
    auto r = reply.reader();
    r.u16();
    r.bytes(2 * p9::qid_size + 5);
    EXPECT_EQ(r.u64(), root_qid().path);
    // ../outside/secret: "outside" is looked up in the share's root, where it does not exist.
    EXPECT_EQ(client->walk(0, 2, { "..", "outside", "secret" }).error(), 0);
    EXPECT_EQ(P9TestClient::walked(client->walk(0, 2, { "..", "outside", "secret" })), 1);
    EXPECT_EQ(client->walk(0, 2, { "outside" }).error(), ENOENT);
}

TEST_P(ShareEscape, NameWithSlashOrDot_IsEinval)
{
    EXPECT_EQ(client->walk(0, 1, { "../outside/secret" }).error(), EINVAL);
    EXPECT_EQ(client->walk(0, 1, { "/etc" }).error(), EINVAL);
    EXPECT_EQ(client->walk(0, 1, { "." }).error(), EINVAL);
    EXPECT_EQ(client->walk(0, 1, { "" }).error(), EINVAL);
    EXPECT_EQ(client->lcreate(0, "../escaped", of::write_only, 0644).error(), EINVAL);
    EXPECT_EQ(client->mkdir(0, "..").error(), EINVAL);
    EXPECT_EQ(client->symlink(0, "a/b", "x").error(), EINVAL);
    EXPECT_EQ(client->renameat(0, "hello.txt", 0, "../moved").error(), EINVAL);
    EXPECT_EQ(client->unlinkat(0, "../outside/secret").error(), EINVAL);
    EXPECT_EQ(client->mkdir(0, std::string(256, 'n')).error(), ENAMETOOLONG);
    EXPECT_FALSE(exists(top + "/escaped"));
    EXPECT_FALSE(exists(top + "/moved"));
    expect_outside_untouched();
}

TEST_P(ShareEscape, AbsoluteSymlink_IsNeverFollowed)
{
    std::filesystem::create_symlink(outside, share + "/abs");
    std::filesystem::create_symlink(outside + "/secret", share + "/abs-file");
    // Walking through it stops at the link (a partial walk: one qid, no new fid).
    EXPECT_EQ(P9TestClient::walked(client->walk(0, 1, { "abs", "secret" })), 1);
    EXPECT_EQ(client->getattr(1).error(), EBADF);
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 2, { "abs-file" })), 1);
    EXPECT_EQ(client->lopen(2, 0).error(), ELOOP);
    EXPECT_EQ(client->lopen(2, of::write_only | of::truncate).error(), ELOOP);
    // Creating "through" it: the fid is a symlink, not a directory.
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 3, { "abs" })), 1);
    EXPECT_EQ(client->lcreate(3, "planted", of::write_only, 0644).error(), ENOTDIR);
    EXPECT_EQ(client->mkdir(3, "planted").error(), ENOTDIR);
    EXPECT_FALSE(exists(outside + "/planted"));
    // setattr on the link changes the link's own times at most, never its target.
    EXPECT_EQ(client->setattr(2, p9::setattr::mode, 0777, 0).error(), EOPNOTSUPP);
    EXPECT_EQ(client->setattr(2, p9::setattr::size, 0, 0).error(), EINVAL);
    expect_outside_untouched();
}

TEST_P(ShareEscape, RelativeSymlinkClimbingOut_IsNeverFollowed)
{
    std::filesystem::create_directories(share + "/sub");
    std::filesystem::create_symlink("../../outside", share + "/sub/up");
    EXPECT_EQ(P9TestClient::walked(client->walk(0, 1, { "sub", "up", "secret" })), 2);
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 2, { "sub", "up" })), 2);
    EXPECT_EQ(client->lopen(2, 0).error(), ELOOP);
    EXPECT_EQ(client->renameat(2, "secret", 0, "stolen").error(), ENOTDIR);
    EXPECT_EQ(client->unlinkat(2, "secret").error(), ENOTDIR);
    expect_outside_untouched();
}

TEST_P(ShareEscape, DirectorySwappedForSymlinkAfterWalk_IsRefused)
{
    std::filesystem::create_directories(share + "/d");
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "d" })), 1);
    // The race a guest would try: between walking to "d" and using it, "d" becomes a symlink to
    // the outside (here done by the host, as a second guest process could through rename).
    std::filesystem::rename(share + "/d", share + "/d-old");
    std::filesystem::create_symlink(outside, share + "/d");
    EXPECT_EQ(client->walk(1, 2, { "secret" }).error(), ELOOP);
    EXPECT_EQ(client->lcreate(1, "planted", of::write_only, 0644).error(), ELOOP);
    EXPECT_EQ(client->mkdir(1, "planted").error(), ENOTDIR);
    EXPECT_EQ(client->unlinkat(1, "secret").error(), ENOTDIR);
    EXPECT_EQ(client->renameat(1, "secret", 0, "stolen").error(), ENOTDIR);
    EXPECT_EQ(client->lopen(1, 0).error(), ELOOP);
    EXPECT_FALSE(exists(outside + "/planted"));
    expect_outside_untouched();
}

TEST_P(ShareEscape, FileSwappedForSymlinkAfterWalk_IsRefused)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    std::filesystem::remove(share + "/hello.txt");
    std::filesystem::create_symlink(outside + "/secret", share + "/hello.txt");
    EXPECT_EQ(client->lopen(1, 0).error(), ELOOP);
    EXPECT_EQ(client->setattr(1, p9::setattr::size, 0, 0).error(), EINVAL);
    EXPECT_EQ(client->setattr(1, p9::setattr::mode, 0777, 0).error(), EOPNOTSUPP);
    expect_outside_untouched();
}

TEST_P(ShareEscape, ParentSwappedForSymlinkAfterWalk_PathOpsStayInside)
{
    std::filesystem::create_directories(share + "/a/b");
    put(share + "/a/b/file", "inside");
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "a", "b", "file" })), 3);
    std::filesystem::rename(share + "/a", share + "/a-old");
    std::filesystem::create_symlink(outside, share + "/a");
    std::filesystem::create_directories(outside + "/b");
    put(outside + "/b/file", "outside file");
    EXPECT_EQ(client->lopen(1, 0).error(), ELOOP);
    EXPECT_EQ(client->getattr(1).error(), ELOOP);
    EXPECT_EQ(client->setattr(1, p9::setattr::size, 0, 0).error(), ELOOP);
    EXPECT_EQ(contents(outside + "/b/file"), "outside file");
}

TEST_P(ShareEscape, HardLink_CanOnlyNameFilesAlreadyInside)
{
    // The link's target is a fid, so a file in the share; its new name is one component.
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    EXPECT_EQ(client->link(0, 1, "../linked").error(), EINVAL);
    EXPECT_EQ(client->link(0, 1, "/tmp/linked").error(), EINVAL);
    EXPECT_FALSE(exists(top + "/linked"));
    // A directory cannot be hard linked (no loops to climb out by).
    ASSERT_TRUE(client->mkdir(0, "dir").ok(msg::tmkdir));
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 2, { "dir" })), 1);
    EXPECT_EQ(client->link(0, 2, "dir-again").error(), EPERM);
    // A symlink to the outside linked again is still just a symlink: never followed.
    std::filesystem::create_symlink(outside + "/secret", share + "/out");
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 3, { "out" })), 1);
    ASSERT_TRUE(client->link(0, 3, "out2").ok(msg::tlink));
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 4, { "out2" })), 1);
    EXPECT_EQ(client->lopen(4, 0).error(), ELOOP);
    expect_outside_untouched();
}

TEST_P(ShareEscape, Fifo_IsRefusedWithoutBlocking)
{
    ASSERT_EQ(::mkfifo((share + "/fifo").c_str(), 0666), 0);
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "fifo" })), 1);
    EXPECT_EQ(client->lopen(1, 0).error(), EPERM);
    EXPECT_EQ(client->lopen(1, of::write_only).error(), EPERM);
    EXPECT_EQ(client->setattr(1, p9::setattr::size, 0, 0).error(), EINVAL);
}

TEST_P(ShareEscape, Socket_IsRefused)
{
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un address {};
    address.sun_family = AF_UNIX;
    std::string path = share + "/sock";
    ASSERT_LT(path.size(), sizeof address.sun_path);
    std::memcpy(address.sun_path, path.c_str(), path.size());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ::close(fd);
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "sock" })), 1);
    EXPECT_EQ(client->lopen(1, of::read_write).error(), EPERM);
}

TEST_P(ShareEscape, DeviceNode_IsRefused)
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "creating a device node on the host needs root";
    ASSERT_EQ(::mknod((share + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "null" })), 1);
    EXPECT_EQ(client->lopen(1, 0).error(), EPERM);
    EXPECT_EQ(client->lopen(1, of::write_only).error(), EPERM);
}

TEST_P(ShareEscape, Mknod_OfAnyKind_IsEperm)
{
    for (uint32_t type : { S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK, S_IFREG }) {
        auto reply = client->send(msg::tmknod, [&](auto& w) {
            w.u32(0);
            w.string("node");
            w.u32(type | 0666);
            w.u32(1);
            w.u32(3);
            w.u32(0);
        });
        EXPECT_EQ(reply.error(), EPERM) << type;
    }
    EXPECT_FALSE(exists(share + "/node"));
}

TEST_P(ShareEscape, ProcMagicLinks_AreNotFollowed)
{
    std::filesystem::create_symlink("/proc/self/root", share + "/self-root");
    std::filesystem::create_symlink("/proc/self/cwd", share + "/self-cwd");
    EXPECT_EQ(P9TestClient::walked(client->walk(0, 1, { "self-root", "etc" })), 1);
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 2, { "self-cwd" })), 1);
    EXPECT_EQ(client->lopen(2, 0).error(), ELOOP);

    // A share rooted in /proc itself: its magic links are links, never doors.
    auto root = ShareRoot::open("/proc/self", ShareAccess::ReadOnly, { ::geteuid(), ::getegid() });
    ASSERT_TRUE(root) << root.error().message;
    ShareServer proc_server(std::move(root).value());
    P9TestClient proc_client(proc_server);
    proc_client.attach();
    EXPECT_EQ(P9TestClient::walked(proc_client.walk(0, 1, { "root", "etc" })), 1);
    ASSERT_EQ(P9TestClient::walked(proc_client.walk(0, 2, { "root" })), 1);
    EXPECT_EQ(proc_client.lopen(2, 0).error(), ELOOP);
    ASSERT_EQ(P9TestClient::walked(proc_client.walk(0, 3, { "fd", "0" })), 2);
    EXPECT_EQ(proc_client.lopen(3, 0).error(), ELOOP);
}

TEST_P(ShareEscape, MountPointInsideTheShare_IsNotCrossed)
{
    // /proc/self/fd is not on the same mount as /proc/self... it is; /proc itself vs "/" is the
    // mount boundary a share of "/" would see.
    auto root = ShareRoot::open("/", ShareAccess::ReadOnly, { ::geteuid(), ::getegid() });
    ASSERT_TRUE(root) << root.error().message;
    ShareServer root_server(std::move(root).value());
    P9TestClient root_client(root_server);
    root_client.attach();
    EXPECT_EQ(root_client.walk(0, 1, { "proc" }).error(), EXDEV);
}

INSTANTIATE_TEST_SUITE_P(Ownership, ShareEscape, ::testing::Values(ShareOwnership::ServerUser, ShareOwnership::Guest),
    [](auto const& info) { return info.param == ShareOwnership::Guest ? "GuestOwners" : "ServerUser"; });
