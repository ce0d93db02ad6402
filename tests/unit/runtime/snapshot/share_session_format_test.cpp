// The virtio-9p fields of the snapshot state file: a share's tag, mode and 9P session survive a
// round trip, and every malformed field is refused with one line (the checksum is valid: these
// are files a buggy or hostile writer produced, not damaged ones).
#include "runtime/snapshot/snapshot_format.hpp"
#include "tests/unit/runtime/snapshot/minimal_machine_snapshot.hpp"
#include "virtio/p9/p9_spec.hpp"

#include <gtest/gtest.h>

namespace husk {
namespace {

    namespace fmt = snapshot_format;

    MachineSnapshot snapshot_with_share()
    {
        auto snapshot = testing_snapshot::minimal_machine_snapshot();
        VirtioSlotSnapshot rng;
        rng.device_type = 4;
        rng.transport.queues.push_back({});
        VirtioSlotSnapshot share;
        share.device_type = 9;
        share.transport.queues.push_back({ 128, true, 0x1000, 0x2000, 0x3000, 17, 17, 17 });
        share.share_tag = "m0";
        share.share_read_only = true;
        share.share_guest_owners = true;
        share.share_session.msize = 512000;
        share.share_session.fids = {
            { 0, "", 0, p9::qid_type::directory, SavedFidState::Named, 0 },
            { 1, "data/in.txt", 1000, p9::qid_type::file, SavedFidState::Open, O_RDONLY },
            { 2, "data", 0, p9::qid_type::directory, SavedFidState::Open, O_RDONLY },
            { 7, "gone", 0, p9::qid_type::symlink, SavedFidState::Stale, 0 },
        };
        snapshot.virtio = { rng, share };
        return snapshot;
    }

    std::string refusal(MachineSnapshot const& snapshot)
    {
        auto decoded = decode_snapshot(encode_snapshot(snapshot));
        EXPECT_FALSE(decoded.has_value());
        if (decoded)
            return {};
        EXPECT_EQ(decoded.error().message.find('\n'), std::string::npos) << decoded.error().message;
        return decoded.error().message;
    }

    SavedShareFid& fid(MachineSnapshot& snapshot, size_t index) { return snapshot.virtio[1].share_session.fids[index]; }

} // namespace

TEST(SnapshotShareFormat, RoundTrip_KeepsTheShareAndEveryFid)
{
    auto original = snapshot_with_share();
    auto decoded = decode_snapshot(encode_snapshot(original));
    ASSERT_TRUE(decoded) << decoded.error().message;
    ASSERT_EQ(decoded->virtio.size(), 2u);
    EXPECT_TRUE(decoded->virtio[0].share_tag.empty());
    auto const& share = decoded->virtio[1];
    EXPECT_EQ(share.share_tag, "m0");
    EXPECT_TRUE(share.share_read_only);
    EXPECT_TRUE(share.share_guest_owners);
    EXPECT_EQ(share.share_session.msize, 512000u);
    auto const& expected = original.virtio[1].share_session.fids;
    ASSERT_EQ(share.share_session.fids.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        auto const& got = share.share_session.fids[i];
        EXPECT_EQ(got.fid, expected[i].fid);
        EXPECT_EQ(got.path, expected[i].path);
        EXPECT_EQ(got.uid, expected[i].uid);
        EXPECT_EQ(got.qid_type, expected[i].qid_type);
        EXPECT_EQ(got.state, expected[i].state);
        EXPECT_EQ(got.open_flags, expected[i].open_flags);
    }
    EXPECT_EQ(encode_snapshot(*decoded), encode_snapshot(original));
}

TEST(SnapshotShareFormat, Version1File_IsRefusedAsAnotherBuilds)
{
    auto file = encode_snapshot(snapshot_with_share());
    file[8] = 1;
    auto decoded = decode_snapshot(file);
    ASSERT_FALSE(decoded);
    EXPECT_NE(decoded.error().message.find("take the snapshot again"), std::string::npos);
}

TEST(SnapshotShareFormat, EmptyOrOddTag_IsRefused)
{
    auto snapshot = snapshot_with_share();
    snapshot.virtio[1].share_tag = "";
    EXPECT_NE(refusal(snapshot).find("empty tag"), std::string::npos);
    snapshot.virtio[1].share_tag = "a/b";
    EXPECT_NE(refusal(snapshot).find("[A-Za-z0-9_-]"), std::string::npos);
    snapshot.virtio[1].share_tag = std::string(fmt::max_share_tag + 1, 't');
    EXPECT_NE(refusal(snapshot).find("9p share tag"), std::string::npos);
}

TEST(SnapshotShareFormat, MsizeOutOfRange_IsRefused)
{
    auto snapshot = snapshot_with_share();
    snapshot.virtio[1].share_session.msize = fmt::min_share_msize - 1;
    EXPECT_NE(refusal(snapshot).find("msize"), std::string::npos);
    snapshot.virtio[1].share_session.msize = fmt::max_share_msize + 1;
    EXPECT_NE(refusal(snapshot).find("msize"), std::string::npos);
}

TEST(SnapshotShareFormat, TooManyFids_AreRefusedBeforeReadingThem)
{
    auto snapshot = snapshot_with_share();
    auto& fids = snapshot.virtio[1].share_session.fids;
    fids.clear();
    for (uint32_t i = 0; i <= fmt::max_share_fids; ++i)
        fids.push_back({ i, "", 0, p9::qid_type::directory, SavedFidState::Named, 0 });
    EXPECT_NE(refusal(snapshot).find("65537 fids, at most 65536"), std::string::npos);
}

TEST(SnapshotShareFormat, OverlongPath_IsRefused)
{
    auto snapshot = snapshot_with_share();
    fid(snapshot, 1).path = std::string(fmt::max_share_path + 1, 'a');
    EXPECT_NE(refusal(snapshot).find("9p fid path"), std::string::npos);
}

TEST(SnapshotShareFormat, PathsThatAreNotRelativeNames_AreRefused)
{
    std::vector<std::string> const paths { "/etc/passwd", "..", "a/../../b", "a//b", "a/", "./a",
        std::string("a\0b", 3), std::string(256, 'n') };
    for (auto const& bad : paths) {
        auto snapshot = snapshot_with_share();
        fid(snapshot, 1).path = bad;
        EXPECT_NE(refusal(snapshot).find("not relative to its share"), std::string::npos) << bad;
    }
}

TEST(SnapshotShareFormat, UnknownTypeOrState_IsRefused)
{
    auto snapshot = snapshot_with_share();
    fid(snapshot, 0).qid_type = 0x40;
    EXPECT_NE(refusal(snapshot).find("unknown type 64"), std::string::npos);
    snapshot = snapshot_with_share();
    fid(snapshot, 0).state = static_cast<SavedFidState>(3);
    EXPECT_NE(refusal(snapshot).find("unknown state 3"), std::string::npos);
}

TEST(SnapshotShareFormat, ImpossibleOpenFlags_AreRefused)
{
    auto snapshot = snapshot_with_share();
    fid(snapshot, 0).open_flags = O_RDWR; // not open
    EXPECT_NE(refusal(snapshot).find("not open but has open flags"), std::string::npos);
    snapshot = snapshot_with_share();
    fid(snapshot, 1).open_flags = O_CREAT;
    EXPECT_NE(refusal(snapshot).find("impossible open flags"), std::string::npos);
    fid(snapshot, 1).open_flags = O_ACCMODE;
    EXPECT_NE(refusal(snapshot).find("impossible open flags"), std::string::npos);
    snapshot = snapshot_with_share();
    snapshot.virtio[1].share_read_only = false;
    fid(snapshot, 2).open_flags = O_RDWR;
    EXPECT_NE(refusal(snapshot).find("directory open for writing"), std::string::npos);
    snapshot = snapshot_with_share();
    fid(snapshot, 1).open_flags = O_WRONLY;
    EXPECT_NE(refusal(snapshot).find("open for writing on a read-only share"), std::string::npos);
    snapshot = snapshot_with_share();
    fid(snapshot, 3).state = SavedFidState::Open;
    EXPECT_NE(refusal(snapshot).find("open symlink"), std::string::npos);
}

TEST(SnapshotShareFormat, DuplicateOrUnorderedFids_AreRefused)
{
    auto snapshot = snapshot_with_share();
    fid(snapshot, 2).fid = 1;
    EXPECT_NE(refusal(snapshot).find("out of order or listed twice"), std::string::npos);
}

} // namespace husk
