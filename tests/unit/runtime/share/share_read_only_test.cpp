// ShareServer on a read-only share: every request that would change the share is EROFS and the
// host tree is unchanged; reading still works.
#include "tests/unit/runtime/share/share_fixture.hpp"

using namespace husk;
using namespace husk::testing;
namespace msg = husk::p9::message;
namespace of = husk::p9::open_flag;

class ShareReadOnly : public ShareServerTest {
protected:
    void SetUp() override
    {
        ShareServerTest::SetUp();
        std::filesystem::create_directories(share + "/d");
        serve(ShareAccess::ReadOnly);
        ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
        ASSERT_EQ(P9TestClient::walked(client->walk(0, 2, { "d" })), 1);
    }
};

TEST_F(ShareReadOnly, Reads_Work)
{
    ASSERT_TRUE(client->lopen(1, 0).ok(msg::tlopen));
    EXPECT_EQ(P9TestClient::data(client->read(1, 0, 5)), "hello");
}

TEST_F(ShareReadOnly, OpenForWritingOrTruncating_IsErofs)
{
    EXPECT_EQ(client->lopen(1, of::write_only).error(), EROFS);
    EXPECT_EQ(client->lopen(1, of::read_write).error(), EROFS);
    EXPECT_EQ(client->lopen(1, of::truncate).error(), EROFS);
}

TEST_F(ShareReadOnly, EveryModifyingRequest_IsErofs)
{
    EXPECT_EQ(client->lcreate(2, "new", of::write_only, 0644).error(), EROFS);
    EXPECT_EQ(client->mkdir(0, "new").error(), EROFS);
    EXPECT_EQ(client->symlink(0, "new", "x").error(), EROFS);
    EXPECT_EQ(client->link(0, 1, "new").error(), EROFS);
    EXPECT_EQ(client->renameat(0, "hello.txt", 0, "new").error(), EROFS);
    EXPECT_EQ(client->unlinkat(0, "hello.txt").error(), EROFS);
    EXPECT_EQ(client->unlinkat(0, "d", p9::unlink_remove_dir).error(), EROFS);
    EXPECT_EQ(client->setattr(1, p9::setattr::size, 0, 0).error(), EROFS);
    EXPECT_EQ(client->setattr(1, p9::setattr::mode, 0777, 0).error(), EROFS);
    EXPECT_EQ(client->setattr(1, p9::setattr::mtime, 0, 0).error(), EROFS);
    EXPECT_EQ(client->write(1, 0, "x").error(), EROFS);
    ASSERT_TRUE(client->lopen(1, 0).ok(msg::tlopen));
    EXPECT_EQ(client->write_in_place(1, 0, std::string(8192, 'x')).error(), EROFS) << "the zero-copy Twrite";
    EXPECT_EQ(client
                  ->send(msg::trename,
                      [](auto& w) {
                          w.u32(1);
                          w.u32(0);
                          w.string("new");
                      })
                  .error(),
        EROFS);
    EXPECT_EQ(client->send(msg::tremove, [](auto& w) { w.u32(1); }).error(), EROFS);
    EXPECT_EQ(client
                  ->send(msg::txattrcreate,
                      [](auto& w) {
                          w.u32(1);
                          w.string("user.x");
                          w.u64(1);
                          w.u32(0);
                      })
                  .error(),
        EOPNOTSUPP);
    EXPECT_EQ(contents(share + "/hello.txt"), "hello from the host");
    EXPECT_FALSE(exists(share + "/new"));
    EXPECT_TRUE(exists(share + "/d"));
}

TEST_F(ShareReadOnly, WritableShareNotWritableByItsUser_FailsAtStartSayingWhatToDo)
{
    ASSERT_EQ(::chmod(share.c_str(), 0755), 0);
    auto root = ShareRoot::open(share, ShareAccess::ReadWrite, { 54321, 54321 });
    ASSERT_FALSE(root);
    EXPECT_NE(root.error().message.find("not writable by uid 54321"), std::string::npos) << root.error().message;
    EXPECT_NE(root.error().message.find(",ro"), std::string::npos);
    EXPECT_TRUE(ShareRoot::open(share, ShareAccess::ReadOnly, { 54321, 54321 }));
}

TEST_F(ShareReadOnly, MissingDirectory_FailsAtStart)
{
    EXPECT_FALSE(ShareRoot::open(share + "/nope", ShareAccess::ReadOnly, { ::geteuid(), ::getegid() }));
    EXPECT_FALSE(ShareRoot::open(share + "/hello.txt", ShareAccess::ReadOnly, { ::geteuid(), ::getegid() }));
}
