// check_tx_frame: each rule of §5.1.6.2 (driver requirements for transmitted packets) in turn.
#include "virtio/net/tx_frame_check.hpp"

#include "virtio/core/virtio_spec.hpp"

namespace husk {

namespace net = virtio::net;

TxOffloads TxOffloads::from_features(uint64_t features)
{
    TxOffloads offloads;
    offloads.checksum = virtio::has_feature(features, net::feature::csum);
    offloads.tso4 = offloads.checksum && virtio::has_feature(features, net::feature::host_tso4);
    offloads.tso6 = offloads.checksum && virtio::has_feature(features, net::feature::host_tso6);
    return offloads;
}

std::string_view tx_frame_problem_name(TxFrameProblem problem)
{
    switch (problem) {
    case TxFrameProblem::None:
        return "none";
    case TxFrameProblem::ShortFrame:
        return "frame shorter than an Ethernet header";
    case TxFrameProblem::OversizedFrame:
        return "oversized frame";
    case TxFrameProblem::UnknownFlags:
        return "header flags other than NEEDS_CSUM";
    case TxFrameProblem::ChecksumNotNegotiated:
        return "NEEDS_CSUM without VIRTIO_NET_F_CSUM";
    case TxFrameProblem::ChecksumOutOfRange:
        return "checksum start/offset outside the frame";
    case TxFrameProblem::UnsupportedGsoType:
        return "unsupported GSO type";
    case TxFrameProblem::GsoNotNegotiated:
        return "GSO type not negotiated";
    case TxFrameProblem::GsoWithoutChecksum:
        return "GSO without NEEDS_CSUM";
    case TxFrameProblem::GsoSizeZero:
        return "GSO with gso_size 0";
    case TxFrameProblem::HeaderLengthOutOfRange:
        return "hdr_len past the end of the frame";
    }
    return "unknown";
}

TxFrameProblem check_tx_frame(net::Header const& header, uint64_t frame_length, TxOffloads const& offloads)
{
    if (frame_length < net::ethernet_header_size)
        return TxFrameProblem::ShortFrame;
    if (frame_length > net::max_frame_size)
        return TxFrameProblem::OversizedFrame;
    if ((header.flags & ~net::header_flag::needs_csum) != 0)
        return TxFrameProblem::UnknownFlags;

    bool needs_csum = (header.flags & net::header_flag::needs_csum) != 0;
    if (needs_csum) {
        if (!offloads.checksum)
            return TxFrameProblem::ChecksumNotNegotiated;
        // The 16-bit checksum field must lie after the Ethernet header and inside the frame;
        // 32-bit sums cannot overflow from 16-bit fields.
        uint32_t checksum_end = uint32_t { header.csum_start } + header.csum_offset + 2;
        if (header.csum_start < net::ethernet_header_size || checksum_end > frame_length)
            return TxFrameProblem::ChecksumOutOfRange;
    }

    switch (header.gso_type) {
    case net::gso::none:
        // One frame on the wire: no more than the guest's MTU (1500: husk offers no MTU feature).
        if (frame_length > net::max_plain_frame_size)
            return TxFrameProblem::OversizedFrame;
        return TxFrameProblem::None;
    case net::gso::tcpv4:
        if (!offloads.tso4)
            return TxFrameProblem::GsoNotNegotiated;
        break;
    case net::gso::tcpv6:
        if (!offloads.tso6)
            return TxFrameProblem::GsoNotNegotiated;
        break;
    default: // UDP/UFO and USO are not offered, and neither is HOST_ECN
        return TxFrameProblem::UnsupportedGsoType;
    }
    if (!needs_csum)
        return TxFrameProblem::GsoWithoutChecksum;
    if (header.gso_size == 0)
        return TxFrameProblem::GsoSizeZero;
    if (header.hdr_len > frame_length)
        return TxFrameProblem::HeaderLengthOutOfRange;
    return TxFrameProblem::None;
}

} // namespace husk
