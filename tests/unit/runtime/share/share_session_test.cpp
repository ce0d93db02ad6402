// ShareServer::save_session / restore_session: a 9P session saved from one server and taken over
// by a fresh server over the same directory (or a copy of it) goes on where it was: attached
// roots, walked fids, open files, directory listings. What cannot come back is refused with one
// line naming the fid: an open file deleted or moved out of the share at the snapshot, a name
// missing or of another type at the restore, a write on a read-only share.
#include "tests/unit/runtime/share/share_fixture.hpp"

#include <set>

using namespace husk;
using namespace husk::testing;
namespace msg = husk::p9::message;
namespace of = husk::p9::open_flag;

class ShareServerSession : public ShareServerTest {
protected:
    void SetUp() override
    {
        ShareServerTest::SetUp();
        serve();
        std::filesystem::create_directories(share + "/sub");
        put(share + "/sub/inner.txt", "inner file");
    }

    husk::ShareSession saved_session()
    {
        auto saved = server->save_session();
        EXPECT_TRUE(saved) << saved.error().message;
        return saved ? *saved : husk::ShareSession {};
    }

    // A fresh server over `directory` that took `session` over, and a client on it that never
    // attached: it goes on with the fids of the old one.
    Result<void> restore_into(std::string const& directory, husk::ShareSession const& session,
        ShareAccess access = ShareAccess::ReadWrite, ShareOwnership ownership = ShareOwnership::ServerUser)
    {
        auto root = ShareRoot::open(directory, access, { ::geteuid(), ::getegid() }, ownership);
        EXPECT_TRUE(root) << root.error().message;
        restored = std::make_unique<ShareServer>(std::move(root).value());
        restored_client = std::make_unique<P9TestClient>(*restored);
        return restored->restore_session(session);
    }

    std::set<std::string> list(P9TestClient& with, uint32_t fid, uint64_t& offset, uint32_t count)
    {
        std::set<std::string> names;
        auto reply = with.send(msg::treaddir, [&](auto& w) {
            w.u32(fid);
            w.u64(offset);
            w.u32(count);
        });
        EXPECT_TRUE(reply.ok(msg::treaddir)) << reply.error();
        auto r = reply.reader();
        auto entries = p9::WireReader(r.bytes(r.u32()));
        while (entries.remaining() > 0) {
            entries.bytes(p9::qid_size);
            offset = entries.u64();
            entries.u8();
            names.insert(std::string(entries.string()));
        }
        return names;
    }

    std::unique_ptr<ShareServer> restored;
    std::unique_ptr<P9TestClient> restored_client;
};

TEST_F(ShareServerSession, AttachedRoot_AnswersAfterRestoreWithoutANewAttach)
{
    auto session = saved_session();
    ASSERT_EQ(session.fids.size(), 1u);
    EXPECT_EQ(session.msize, 1u << 20);
    ASSERT_TRUE(restore_into(share, session));
    EXPECT_TRUE(restored_client->getattr(0).ok(msg::tgetattr));
    EXPECT_EQ(restored->negotiated_msize(), 1u << 20);
    EXPECT_EQ(P9TestClient::walked(restored_client->walk(0, 1, { "hello.txt" })), 1);
}

TEST_F(ShareServerSession, WalkedSubdirectory_WalksOnAfterRestore)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "sub" })), 1);
    ASSERT_TRUE(restore_into(share, saved_session()));
    ASSERT_EQ(P9TestClient::walked(restored_client->walk(1, 2, { "inner.txt" })), 1);
    ASSERT_TRUE(restored_client->lopen(2, 0).ok(msg::tlopen));
    EXPECT_EQ(P9TestClient::data(restored_client->read(2, 0, 100)), "inner file");
}

TEST_F(ShareServerSession, OpenFile_ReadsOnFromTheMiddle)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    ASSERT_TRUE(client->lopen(1, 0).ok(msg::tlopen));
    EXPECT_EQ(P9TestClient::data(client->read(1, 0, 6)), "hello ");
    auto session = saved_session();
    ASSERT_EQ(session.fids.size(), 2u);
    EXPECT_EQ(session.fids[1].state, SavedFidState::Open);
    EXPECT_EQ(session.fids[1].open_flags, static_cast<uint32_t>(O_RDONLY));
    ASSERT_TRUE(restore_into(share, session));
    EXPECT_EQ(P9TestClient::data(restored_client->read(1, 6, 100)), "from the host");
    // Still open: 9P refuses to walk from or open an open fid again.
    EXPECT_FALSE(restored_client->lopen(1, 0).ok(msg::tlopen));
}

TEST_F(ShareServerSession, FileOpenForAppending_KeepsItsFlagsAndWritesTheHostFile)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, {})), 0);
    ASSERT_TRUE(client->lcreate(1, "log", of::write_only | of::append, 0644).ok(msg::tlcreate));
    ASSERT_TRUE(client->write(1, 0, "one ").ok(msg::twrite));
    auto session = saved_session();
    EXPECT_EQ(session.fids[1].path, "log");
    EXPECT_EQ(session.fids[1].open_flags, static_cast<uint32_t>(O_WRONLY | O_APPEND));
    ASSERT_TRUE(restore_into(share, session));
    ASSERT_TRUE(restored_client->write(1, 0, "two").ok(msg::twrite));
    EXPECT_EQ(contents(share + "/log"), "one two");
}

TEST_F(ShareServerSession, DirectoryListing_ContinuesWithoutRepeatsOrGaps)
{
    for (int i = 0; i < 30; ++i)
        put(share + "/sub/entry-" + std::to_string(i), "");
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "sub" })), 1);
    ASSERT_TRUE(client->lopen(1, 0).ok(msg::tlopen));
    uint64_t offset = 0;
    auto before = list(*client, 1, offset, 200);
    ASSERT_FALSE(before.empty());
    ASSERT_LT(before.size(), 33u);
    ASSERT_TRUE(restore_into(share, saved_session()));
    auto all = before;
    for (int round = 0; round < 100; ++round) {
        auto more = list(*restored_client, 1, offset, 200);
        if (more.empty())
            break;
        for (auto const& name : more)
            EXPECT_TRUE(all.insert(name).second) << name << " listed twice";
    }
    EXPECT_EQ(all.size(), 30u + 3u); // the entries, inner.txt, "." and ".."
}

TEST_F(ShareServerSession, CopyOfTheDirectory_ServesTheCopy)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "sub" })), 1);
    auto session = saved_session();
    auto copy = top + "/copy";
    std::filesystem::copy(share, copy, std::filesystem::copy_options::recursive);
    ASSERT_TRUE(restore_into(copy, session));
    ASSERT_TRUE(restored_client->lcreate(1, "new", of::write_only, 0644).ok(msg::tlcreate));
    EXPECT_TRUE(exists(copy + "/sub/new"));
    EXPECT_FALSE(exists(share + "/sub/new"));
}

TEST_F(ShareServerSession, OpenFileDeletedBeforeTheSnapshot_FailsTheSave)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    ASSERT_TRUE(client->lopen(1, 0).ok(msg::tlopen));
    ASSERT_EQ(::unlink((share + "/hello.txt").c_str()), 0);
    auto saved = server->save_session();
    ASSERT_FALSE(saved);
    EXPECT_NE(saved.error().message.find("'hello.txt' open (fid 1), but it was deleted"), std::string::npos)
        << saved.error().message;
    EXPECT_EQ(saved.error().message.find('\n'), std::string::npos);
}

TEST_F(ShareServerSession, OpenFileMovedOutOfTheShare_FailsTheSave)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    ASSERT_TRUE(client->lopen(1, 0).ok(msg::tlopen));
    ASSERT_EQ(::rename((share + "/hello.txt").c_str(), (outside + "/hello.txt").c_str()), 0);
    auto saved = server->save_session();
    ASSERT_FALSE(saved);
    EXPECT_NE(saved.error().message.find("moved out of the share"), std::string::npos) << saved.error().message;
}

TEST_F(ShareServerSession, OpenFileRenamedByTheHostWithinTheShare_IsSavedUnderItsNewName)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    ASSERT_TRUE(client->lopen(1, 0).ok(msg::tlopen));
    ASSERT_EQ(::rename((share + "/hello.txt").c_str(), (share + "/sub/moved.txt").c_str()), 0);
    auto session = saved_session();
    ASSERT_EQ(session.fids.size(), 2u);
    EXPECT_EQ(session.fids[1].path, "sub/moved.txt");
    ASSERT_TRUE(restore_into(share, session));
    EXPECT_EQ(P9TestClient::data(restored_client->read(1, 0, 5)), "hello");
}

TEST_F(ShareServerSession, NamedFidWhoseFileIsGone_StaysStaleAndAnswersEnoent)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    ASSERT_EQ(::unlink((share + "/hello.txt").c_str()), 0);
    EXPECT_EQ(client->getattr(1).error(), ENOENT);
    auto session = saved_session();
    ASSERT_EQ(session.fids.size(), 2u);
    EXPECT_EQ(session.fids[1].state, SavedFidState::Stale);
    ASSERT_TRUE(restore_into(share, session));
    EXPECT_EQ(restored_client->getattr(1).error(), ENOENT);
}

TEST_F(ShareServerSession, FileMissingAtTheRestore_IsRefusedNamingIt)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "sub", "inner.txt" })), 2);
    auto session = saved_session();
    ASSERT_EQ(::unlink((share + "/sub/inner.txt").c_str()), 0);
    auto restored_session = restore_into(share, session);
    ASSERT_FALSE(restored_session);
    EXPECT_NE(
        restored_session.error().message.find("'sub/inner.txt' (fid 1) cannot be found in " + share), std::string::npos)
        << restored_session.error().message;
    EXPECT_EQ(restored->fid_count(), 0u);
}

TEST_F(ShareServerSession, NameOfAnotherTypeAtTheRestore_IsRefused)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "sub" })), 1);
    auto session = saved_session();
    std::filesystem::remove_all(share + "/sub");
    put(share + "/sub", "now a file");
    auto restored_session = restore_into(share, session);
    ASSERT_FALSE(restored_session);
    EXPECT_NE(restored_session.error().message.find("was a directory in the snapshot and is a file"), std::string::npos)
        << restored_session.error().message;
}

TEST_F(ShareServerSession, SymlinkWhereAFileWas_IsNeverFollowed)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    ASSERT_TRUE(client->lopen(1, 0).ok(msg::tlopen));
    auto session = saved_session();
    ASSERT_EQ(::unlink((share + "/hello.txt").c_str()), 0);
    ASSERT_EQ(::symlink((outside + "/secret").c_str(), (share + "/hello.txt").c_str()), 0);
    auto restored_session = restore_into(share, session);
    ASSERT_FALSE(restored_session);
    EXPECT_NE(restored_session.error().message.find("is a symlink"), std::string::npos)
        << restored_session.error().message;
}

TEST_F(ShareServerSession, WritableOpenOnAReadOnlyShare_IsRefused)
{
    ASSERT_EQ(P9TestClient::walked(client->walk(0, 1, { "hello.txt" })), 1);
    ASSERT_TRUE(client->lopen(1, of::read_write).ok(msg::tlopen));
    auto restored_session = restore_into(share, saved_session(), ShareAccess::ReadOnly);
    ASSERT_FALSE(restored_session);
    EXPECT_NE(restored_session.error().message.find("read-only"), std::string::npos)
        << restored_session.error().message;
}

TEST_F(ShareServerSession, MalformedPaths_AreRefusedBeforeAnyLookup)
{
    for (std::string bad : { "../outside/secret", "/etc", "sub//inner.txt", "sub/", "./hello.txt" }) {
        husk::ShareSession session;
        session.msize = 8192;
        session.fids.push_back({ 3, bad, 0, p9::qid_type::file, SavedFidState::Named, 0 });
        auto restored_session = restore_into(share, session);
        ASSERT_FALSE(restored_session) << bad;
        EXPECT_NE(restored_session.error().message.find("malformed path"), std::string::npos) << bad;
    }
}

TEST_F(ShareServerSession, GuestOwnedShare_KeepsTheUserEachFidWasAttachedAs)
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "SKIPPING: files of other owners need root";
    client.reset();
    server.reset();
    serve(ShareAccess::ReadWrite, ShareOwnership::Guest);
    ASSERT_TRUE(client->attach_as(10, 1234).ok(msg::tattach));
    auto session = saved_session();
    ASSERT_TRUE(restore_into(share, session, ShareAccess::ReadWrite, ShareOwnership::Guest));
    ASSERT_TRUE(restored_client->walk(10, 11, {}).ok(msg::twalk));
    ASSERT_TRUE(restored_client->lcreate(11, "mine", of::read_write, 0640, 5678).ok(msg::tlcreate));
    struct stat st { };
    ASSERT_EQ(::stat((share + "/mine").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 5678u);
}
