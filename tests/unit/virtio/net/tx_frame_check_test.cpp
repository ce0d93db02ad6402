// check_tx_frame: well-formed frames pass, and every malformed header or length is refused with
// its own cause: flags, checksum range, GSO types and their negotiation, gso_size, hdr_len,
// short and oversized frames.
#include "virtio/net/tx_frame_check.hpp"

#include "virtio/core/virtio_spec.hpp"

#include <gtest/gtest.h>

using namespace husk;
namespace net = husk::virtio::net;

namespace {

constexpr TxOffloads all_offloads { true, true, true };
constexpr uint64_t tcp_frame = 14 + 20 + 20 + 100;

net::Header checksum_header(uint16_t start = 34, uint16_t offset = 16)
{
    net::Header header {};
    header.flags = net::header_flag::needs_csum;
    header.csum_start = start;
    header.csum_offset = offset;
    return header;
}

net::Header tso_header(uint8_t type, uint16_t gso_size = 1448, uint16_t hdr_len = 54)
{
    auto header = checksum_header();
    header.gso_type = type;
    header.gso_size = gso_size;
    header.hdr_len = hdr_len;
    return header;
}

} // namespace

TEST(TxFrameCheck, CheckTxFrame_PlainFrame_Accepted)
{
    EXPECT_EQ(check_tx_frame(net::Header {}, 60, TxOffloads {}), TxFrameProblem::None);
    EXPECT_EQ(check_tx_frame(net::Header {}, net::max_plain_frame_size, TxOffloads {}), TxFrameProblem::None);
}

TEST(TxFrameCheck, CheckTxFrame_PartialChecksumNegotiated_Accepted)
{
    EXPECT_EQ(check_tx_frame(checksum_header(), tcp_frame, all_offloads), TxFrameProblem::None);
}

TEST(TxFrameCheck, CheckTxFrame_TsoFramesNegotiated_Accepted)
{
    EXPECT_EQ(check_tx_frame(tso_header(net::gso::tcpv4), 60000, all_offloads), TxFrameProblem::None);
    EXPECT_EQ(check_tx_frame(tso_header(net::gso::tcpv6), net::max_frame_size, all_offloads), TxFrameProblem::None);
}

TEST(TxFrameCheck, CheckTxFrame_ShortFrame_Refused)
{
    EXPECT_EQ(check_tx_frame(net::Header {}, 0, all_offloads), TxFrameProblem::ShortFrame);
    EXPECT_EQ(check_tx_frame(net::Header {}, 13, all_offloads), TxFrameProblem::ShortFrame);
}

TEST(TxFrameCheck, CheckTxFrame_OversizedFrames_Refused)
{
    EXPECT_EQ(check_tx_frame(tso_header(net::gso::tcpv4), net::max_frame_size + 1, all_offloads),
        TxFrameProblem::OversizedFrame);
    EXPECT_EQ(
        check_tx_frame(net::Header {}, net::max_plain_frame_size + 1, all_offloads), TxFrameProblem::OversizedFrame);
    EXPECT_EQ(check_tx_frame(net::Header {}, UINT64_MAX, all_offloads), TxFrameProblem::OversizedFrame);
}

TEST(TxFrameCheck, CheckTxFrame_DeviceOnlyOrUnknownFlags_Refused)
{
    for (uint8_t flags : { net::header_flag::data_valid, net::header_flag::rsc_info, uint8_t { 0x80 } }) {
        net::Header header {};
        header.flags = flags;
        EXPECT_EQ(check_tx_frame(header, 60, all_offloads), TxFrameProblem::UnknownFlags) << int(flags);
    }
}

TEST(TxFrameCheck, CheckTxFrame_ChecksumWithoutCsumFeature_Refused)
{
    EXPECT_EQ(check_tx_frame(checksum_header(), tcp_frame, TxOffloads {}), TxFrameProblem::ChecksumNotNegotiated);
}

TEST(TxFrameCheck, CheckTxFrame_ChecksumOutsideFrame_Refused)
{
    // The 2-byte field must end inside the frame: start + offset + 2 <= length.
    EXPECT_EQ(check_tx_frame(checksum_header(34, 16), 52, all_offloads), TxFrameProblem::None);
    EXPECT_EQ(check_tx_frame(checksum_header(34, 17), 52, all_offloads), TxFrameProblem::ChecksumOutOfRange);
    EXPECT_EQ(
        check_tx_frame(checksum_header(0xffff, 0xffff), tcp_frame, all_offloads), TxFrameProblem::ChecksumOutOfRange);
    EXPECT_EQ(check_tx_frame(checksum_header(60, 0), 61, all_offloads), TxFrameProblem::ChecksumOutOfRange);
    // Inside the Ethernet header: never a checksum the host should compute.
    EXPECT_EQ(check_tx_frame(checksum_header(2, 0), tcp_frame, all_offloads), TxFrameProblem::ChecksumOutOfRange);
}

TEST(TxFrameCheck, CheckTxFrame_UnsupportedGsoTypes_Refused)
{
    for (uint8_t type : { net::gso::udp, net::gso::udp_l4, uint8_t(net::gso::tcpv4 | net::gso::ecn), uint8_t { 2 },
             uint8_t { 0x7f }, uint8_t { 0xff } }) {
        EXPECT_EQ(check_tx_frame(tso_header(type), 60000, all_offloads), TxFrameProblem::UnsupportedGsoType)
            << int(type);
    }
}

TEST(TxFrameCheck, CheckTxFrame_GsoNotNegotiated_Refused)
{
    TxOffloads checksum_only { true, false, false };
    EXPECT_EQ(check_tx_frame(tso_header(net::gso::tcpv4), 60000, checksum_only), TxFrameProblem::GsoNotNegotiated);
    EXPECT_EQ(check_tx_frame(tso_header(net::gso::tcpv6), 60000, checksum_only), TxFrameProblem::GsoNotNegotiated);
}

TEST(TxFrameCheck, CheckTxFrame_GsoWithoutNeedsCsum_Refused)
{
    auto header = tso_header(net::gso::tcpv4);
    header.flags = 0;
    EXPECT_EQ(check_tx_frame(header, 60000, all_offloads), TxFrameProblem::GsoWithoutChecksum);
}

TEST(TxFrameCheck, CheckTxFrame_GsoSizeZero_Refused)
{
    EXPECT_EQ(check_tx_frame(tso_header(net::gso::tcpv4, 0), 60000, all_offloads), TxFrameProblem::GsoSizeZero);
}

TEST(TxFrameCheck, CheckTxFrame_HeaderLengthPastFrame_Refused)
{
    EXPECT_EQ(check_tx_frame(tso_header(net::gso::tcpv4, 1448, 0xffff), 60000, all_offloads),
        TxFrameProblem::HeaderLengthOutOfRange);
}

TEST(TxFrameCheck, TxOffloads_TsoWithoutCsum_NotNegotiated)
{
    uint64_t features = virtio::feature_mask(net::feature::host_tso4) | virtio::feature_mask(net::feature::host_tso6);
    auto offloads = TxOffloads::from_features(features);
    EXPECT_FALSE(offloads.checksum);
    EXPECT_FALSE(offloads.tso4);
    EXPECT_FALSE(offloads.tso6);
    offloads = TxOffloads::from_features(features | virtio::feature_mask(net::feature::csum));
    EXPECT_TRUE(offloads.checksum && offloads.tso4 && offloads.tso6);
}

TEST(TxFrameCheck, TxFrameProblemName_EveryProblem_Named)
{
    for (int problem = 0; problem <= static_cast<int>(TxFrameProblem::HeaderLengthOutOfRange); ++problem)
        EXPECT_NE(tx_frame_problem_name(static_cast<TxFrameProblem>(problem)), "unknown");
}
