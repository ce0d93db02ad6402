// ShareServer: what a well-behaved client does (the operations Linux's v9fs sends), checked
// against the host directory.
#include <array>
#include "tests/unit/runtime/share/share_fixture.hpp"

#include <set>

using namespace husk;
using namespace husk::testing;
namespace msg = husk::p9::message;
namespace of = husk::p9::open_flag;

class ShareServerOps : public ShareServerTest {
protected:
    void SetUp() override
    {
        ShareServerTest::SetUp();
        serve();
    }
};

TEST_F(ShareServerOps, Version_OtherProtocol_AnswersUnknown)
{
    auto reply = client->send_bytes(P9TestClient::message(msg::tversion, p9::no_tag, [](auto& w) {
        w.u32(8192);
        w.string("9P2000.u");
    }));
    ASSERT_TRUE(reply.ok(msg::tversion));
    auto r = reply.reader();
    EXPECT_EQ(r.u32(), 8192u);
    EXPECT_EQ(r.string(), "unknown");
}

TEST_F(ShareServerOps, Version_HugeMsize_IsCappedAndClearsFids)
{
    auto reply = client->send_bytes(P9TestClient::message(msg::tversion, p9::no_tag, [](auto& w) {
        w.u32(64u << 20);
        w.string(p9::protocol_version);
    }));
    ASSERT_TRUE(reply.ok(msg::tversion));
    EXPECT_EQ(reply.reader().u32(), ShareServer::max_msize);
    EXPECT_EQ(server->fid_count(), 0u);
}

TEST_F(ShareServerOps, ReadHostFile_ReturnsItsBytes)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    ASSERT_TRUE(client->lopen(1, 0).ok(msg::tlopen));
    EXPECT_EQ(P9TestClient::data(client->read(1, 6, 100)), "from the host");
    EXPECT_EQ(P9TestClient::data(client->read(1, 1000, 100)), "");
}

// handle_read: the data goes into the caller's (the guest's) buffers, the header into the reply,
// its size field counting both; never more than asked for or than the buffers hold.
TEST_F(ShareServerOps, ReadInPlace_FillsTheBuffersAndCountsThemInTheHeader)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    ASSERT_TRUE(client->lopen(1, 0).ok(msg::tlopen));
    auto tread = [](uint32_t fid, uint64_t offset, uint32_t count) {
        return P9TestClient::message(msg::tread, 9, [&](auto& w) {
            w.u32(fid);
            w.u64(offset);
            w.u32(count);
        });
    };
    std::string first(4, '.'), second(100, '.');
    std::array<iovec, 2> buffers { iovec { first.data(), first.size() }, iovec { second.data(), second.size() } };
    std::array<uint8_t, p9::rread_header_size> header {};

    auto reply = server->handle_read(tread(1, 6, 9), buffers, 104, header);
    ASSERT_EQ(reply.header_length, p9::rread_header_size);
    EXPECT_EQ(reply.data_bytes, 9u);
    EXPECT_EQ(header[4], msg::reply_to(msg::tread));
    EXPECT_EQ(p9::WireReader(header).u32(), p9::rread_header_size + 9);
    EXPECT_EQ(first + second.substr(0, 6), "from the .");
    EXPECT_EQ(second.substr(5), std::string(95, '.')) << "read more than the count asked for";

    // The buffers' room bounds the read even when the count is larger.
    reply = server->handle_read(tread(1, 0, 4096), std::span(buffers).first(1), 4, header);
    EXPECT_EQ(reply.data_bytes, 4u);
    EXPECT_EQ(first, "hell");

    // Errors come back as Rlerror with no data.
    reply = server->handle_read(tread(77, 0, 10), buffers, 104, header);
    EXPECT_EQ(reply.data_bytes, 0u);
    EXPECT_EQ(header[4], msg::rlerror);
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 2, {})), 0);
    ASSERT_TRUE(client->lopen(2, 0).ok(msg::tlopen));
    reply = server->handle_read(tread(2, 0, 10), buffers, 104, header);
    EXPECT_EQ(reply.data_bytes, 0u);
    EXPECT_EQ(header[4], msg::rlerror);
    EXPECT_EQ(header[7], EISDIR);
}

// handle_write: the data comes from the caller's (the guest's) buffers, however they are cut,
// and lands at the offset; the Rwrite counts it.
TEST_F(ShareServerOps, WriteInPlace_WritesTheGuestBuffersAtTheOffset)
{
    std::string data;
    for (int i = 0; i < 10000; ++i)
        data += static_cast<char>('a' + i % 26);
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    ASSERT_TRUE(client->lopen(1, of::read_write).ok(msg::tlopen));

    for (size_t piece : { size_t { 4096 }, size_t { 10000 }, size_t { 1 } << 20 }) {
        auto reply = client->write_in_place(1, 6, data, piece);
        ASSERT_TRUE(reply.ok(msg::twrite)) << reply.error();
        EXPECT_EQ(reply.reader().u32(), 10000u);
        EXPECT_EQ(contents(share + "/hello.txt"), "hello " + data);
    }
}

// The header must agree with the data the device found: a count or size larger or smaller than
// the buffers is a malformed message (EPROTO), and nothing is written.
TEST_F(ShareServerOps, WriteInPlace_CountOrSizeDisagreeingWithTheData_IsEprotoAndWritesNothing)
{
    std::string data(5000, 'x');
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    ASSERT_TRUE(client->lopen(1, of::read_write).ok(msg::tlopen));

    EXPECT_EQ(client->write_in_place(1, 0, data, 4096, 5001).error(), EPROTO);
    EXPECT_EQ(client->write_in_place(1, 0, data, 4096, 4999).error(), EPROTO);
    EXPECT_EQ(client->write_in_place(1, 0, data, 4096, 0).error(), EPROTO);
    EXPECT_EQ(client->write_in_place(1, 0, data, 4096, {}, p9::twrite_header_size + 6000).error(), EPROTO);
    EXPECT_EQ(client->write_in_place(1, 0, "", 4096).error(), EPROTO) << "no data at all";
    EXPECT_EQ(contents(share + "/hello.txt"), "hello from the host");
}

TEST_F(ShareServerOps, WriteInPlace_UnknownUnopenedOrReadOnlyFid_IsEbadf)
{
    std::string data(5000, 'x');
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 2, { "hello.txt" })), 1);
    ASSERT_TRUE(client->lopen(2, 0).ok(msg::tlopen));

    EXPECT_EQ(client->write_in_place(77, 0, data).error(), EBADF);
    EXPECT_EQ(client->write_in_place(1, 0, data).error(), EBADF) << "walked, not opened";
    EXPECT_EQ(client->write_in_place(2, 0, data).error(), EBADF) << "opened for reading";
    EXPECT_EQ(contents(share + "/hello.txt"), "hello from the host");
}

TEST_F(ShareServerOps, CreateWriteRead_LandsOnTheHostOwnedByTheServer)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, {})), 0);
    ASSERT_TRUE(client->lcreate(1, "new.txt", of::read_write, 06755).ok(msg::tlcreate));
    ASSERT_TRUE(client->write(1, 0, "written by the guest").ok(msg::twrite));
    EXPECT_EQ(P9TestClient::data(client->read(1, 0, 7)), "written");
    EXPECT_EQ(contents(share + "/new.txt"), "written by the guest");
    struct stat st { };
    ASSERT_EQ(::stat((share + "/new.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, ::geteuid());
    EXPECT_EQ(st.st_mode & 06000, 0u) << "set-id bits must be dropped";
}

TEST_F(ShareServerOps, Setattr_ChownIsIgnored_ChmodDropsSetId_TruncateWorks)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    auto reply = client->setattr(
        1, p9::setattr::mode | p9::setattr::uid | p9::setattr::gid | p9::setattr::size, 04700, 5, 4242);
    ASSERT_TRUE(reply.ok(msg::tsetattr)) << reply.error();
    struct stat st { };
    ASSERT_EQ(::stat((share + "/hello.txt").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    EXPECT_EQ(st.st_uid, ::geteuid());
    EXPECT_EQ(contents(share + "/hello.txt"), "hello");
}

TEST_F(ShareServerOps, MkdirRenameUnlink_ChangeTheHostTreeAndMoveFids)
{
    ASSERT_TRUE(client->mkdir(0, "d").ok(msg::tmkdir));
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "d" })), 1);
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 2, {})), 0);
    ASSERT_TRUE(client->lcreate(2, "f", of::write_only, 0644).ok(msg::tlcreate));
    ASSERT_TRUE(client->write(2, 0, "x").ok(msg::twrite));
    ASSERT_TRUE(client->renameat(0, "f", 1, "g").ok(msg::trenameat));
    EXPECT_EQ(contents(share + "/d/g"), "x");
    ASSERT_TRUE(client->renameat(0, "d", 0, "e").ok(msg::trenameat));
    // fid 1 followed its directory: walking from it finds g.
    EXPECT_EQ(P9TestClient::walked(client->walk(1, 3, { "g" })), 1);
    EXPECT_EQ(client->unlinkat(0, "e").error(), EISDIR);
    EXPECT_EQ(client->unlinkat(0, "e", p9::unlink_remove_dir).error(), ENOTEMPTY);
    ASSERT_TRUE(client->unlinkat(1, "g").ok(msg::tunlinkat));
    ASSERT_TRUE(client->unlinkat(0, "e", p9::unlink_remove_dir).ok(msg::tunlinkat));
    EXPECT_FALSE(exists(share + "/e"));
}

TEST_F(ShareServerOps, Readdir_ListsEveryEntryAcrossSmallRequests)
{
    for (int i = 0; i < 40; ++i)
        put(share + "/file-" + std::to_string(i), "");
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, {})), 0);
    ASSERT_TRUE(client->lopen(1, 0).ok(msg::tlopen));
    std::set<std::string> names;
    uint64_t offset = 0;
    for (int round = 0; round < 100; ++round) {
        auto reply = client->send(msg::treaddir, [&](auto& w) {
            w.u32(1);
            w.u64(offset);
            w.u32(200);
        });
        ASSERT_TRUE(reply.ok(msg::treaddir)) << reply.error();
        auto r = reply.reader();
        uint32_t count = r.u32();
        if (count == 0)
            break;
        auto entries = p9::WireReader(r.bytes(count));
        while (entries.remaining() > 0) {
            entries.bytes(p9::qid_size);
            offset = entries.u64();
            entries.u8();
            names.insert(std::string(entries.string()));
        }
        ASSERT_FALSE(entries.failed());
    }
    EXPECT_EQ(names.size(), 40u + 3u); // the files, hello.txt, "." and ".."
}

TEST_F(ShareServerOps, Symlink_StoresTheTextAndReadlinkReturnsIt)
{
    ASSERT_TRUE(client->symlink(0, "l", "/etc/shadow").ok(msg::tsymlink));
    std::error_code error;
    EXPECT_EQ(std::filesystem::read_symlink(share + "/l", error), "/etc/shadow");
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "l" })), 1);
    auto reply = client->readlink(1);
    ASSERT_TRUE(reply.ok(msg::treadlink));
    EXPECT_EQ(reply.reader().string(), "/etc/shadow");
}

TEST_F(ShareServerOps, Link_InsideTheShare_Works)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    ASSERT_TRUE(client->link(0, 1, "again.txt").ok(msg::tlink));
    EXPECT_EQ(contents(share + "/again.txt"), "hello from the host");
}

TEST_F(ShareServerOps, UnknownFid_IsEbadf)
{
    EXPECT_EQ(client->clunk(77).error(), EBADF);
    EXPECT_EQ(client->getattr(77).error(), EBADF);
    EXPECT_EQ(client->read(77, 0, 1).error(), EBADF);
}

TEST_F(ShareServerOps, ReadBeforeOpen_IsEbadf_WriteToReadOnlyFid_IsEbadf)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    EXPECT_EQ(client->read(1, 0, 1).error(), EBADF);
    ASSERT_TRUE(client->lopen(1, 0).ok(msg::tlopen));
    EXPECT_EQ(client->write(1, 0, "x").error(), EBADF);
}

TEST_F(ShareServerOps, OversizedReply_BecomesEmsgsize)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    auto reply = client->send_bytes(P9TestClient::message(msg::tgetattr, 5,
                                        [](auto& w) {
                                            w.u32(1);
                                            w.u64(p9::getattr::basic);
                                        }),
        40);
    EXPECT_EQ(reply.error(), EMSGSIZE);
}
