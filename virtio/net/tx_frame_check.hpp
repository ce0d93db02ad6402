// check_tx_frame: the pure validator of what a guest puts on the transmit queue, a
// virtio_net_hdr_v1 and the Ethernet frame after it, against the offloads the device negotiated.
// Separate from the device so it is unit-tested and fuzzed on its own. The tap's kernel checks
// the header again; husk refuses nonsense first so it never reaches the host's network stack
// and is counted per cause.
#pragma once

#include "virtio/net/net_spec.hpp"

#include <cstdint>
#include <string_view>

namespace husk {

// The negotiated features that decide which transmit headers are allowed.
struct TxOffloads {
    bool checksum { false }; // VIRTIO_NET_F_CSUM: partial checksums (NEEDS_CSUM)
    bool tso4 { false }; // VIRTIO_NET_F_HOST_TSO4
    bool tso6 { false }; // VIRTIO_NET_F_HOST_TSO6

    // From the negotiated feature bits; TSO without CSUM is treated as not negotiated (§5.1.3.1).
    static TxOffloads from_features(uint64_t features);
};

enum class TxFrameProblem : uint8_t {
    None,
    ShortFrame, // less than an Ethernet header
    OversizedFrame, // more than max_frame_size, or more than one MTU without GSO
    UnknownFlags, // anything but NEEDS_CSUM (DATA_VALID and RSC_INFO are device → driver only)
    ChecksumNotNegotiated, // NEEDS_CSUM without VIRTIO_NET_F_CSUM
    ChecksumOutOfRange, // csum_start + csum_offset + 2 past the frame, or inside the Ethernet header
    UnsupportedGsoType, // UDP, UFO, ECN or an unknown value
    GsoNotNegotiated, // TCPv4/TCPv6 GSO without HOST_TSO4/HOST_TSO6
    GsoWithoutChecksum, // GSO requires NEEDS_CSUM (§5.1.6.2)
    GsoSizeZero,
    HeaderLengthOutOfRange, // hdr_len past the end of the frame
};

std::string_view tx_frame_problem_name(TxFrameProblem problem);

// Checks `header` for a frame of `frame_length` bytes (the chain's readable bytes after the
// header). Returns the first problem found, or None for a frame the tap may take.
TxFrameProblem check_tx_frame(virtio::net::Header const& header, uint64_t frame_length, TxOffloads const& offloads);

} // namespace husk
