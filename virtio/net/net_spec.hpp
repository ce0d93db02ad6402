// virtio-net constants and wire structures (virtio 1.2 §5.1): feature bits, the per-packet header
// (virtio_net_hdr_v1, 12 bytes with VERSION_1 whatever MRG_RXBUF says), its flags and GSO types,
// and the config space husk offers (MAC and link status). Little-endian, read natively.
#pragma once

#include <cstdint>

namespace husk::virtio::net {

// Feature bits, as bit numbers (§5.1.3).
namespace feature {
    inline constexpr unsigned csum = 0; // the device takes packets with a partial checksum
    inline constexpr unsigned guest_csum = 1; // the driver takes packets with a partial checksum
    inline constexpr unsigned mac = 5;
    inline constexpr unsigned guest_tso4 = 7;
    inline constexpr unsigned guest_tso6 = 8;
    inline constexpr unsigned guest_ecn = 9;
    inline constexpr unsigned guest_ufo = 10;
    inline constexpr unsigned host_tso4 = 11;
    inline constexpr unsigned host_tso6 = 12;
    inline constexpr unsigned host_ecn = 13;
    inline constexpr unsigned host_ufo = 14;
    inline constexpr unsigned mrg_rxbuf = 15;
    inline constexpr unsigned status = 16;
    inline constexpr unsigned ctrl_vq = 17;
    inline constexpr unsigned mq = 22;
} // namespace feature

// virtio_net_hdr flags (§5.1.6).
namespace header_flag {
    inline constexpr uint8_t needs_csum = 1;
    inline constexpr uint8_t data_valid = 2; // device → driver only
    inline constexpr uint8_t rsc_info = 4; // device → driver only, with GUEST_RSC (never offered)
} // namespace header_flag

// virtio_net_hdr gso_type values (§5.1.6).
namespace gso {
    inline constexpr uint8_t none = 0;
    inline constexpr uint8_t tcpv4 = 1;
    inline constexpr uint8_t udp = 3;
    inline constexpr uint8_t tcpv6 = 4;
    inline constexpr uint8_t udp_l4 = 5;
    inline constexpr uint8_t ecn = 0x80;
} // namespace gso

// Config space status bits (§5.1.4).
namespace link_status {
    inline constexpr uint16_t up = 1;
    inline constexpr uint16_t announce = 2;
} // namespace link_status

// struct virtio_net_hdr_v1: in front of every packet on both queues and on the tap.
struct [[gnu::packed]] Header {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len; // Ethernet + IP + TCP headers, a hint for GSO
    uint16_t gso_size; // payload bytes per segment
    uint16_t csum_start; // where checksumming starts, from the start of the frame
    uint16_t csum_offset; // where the checksum goes, from csum_start
    uint16_t num_buffers; // receive buffers this packet spans (MRG_RXBUF); 0 on transmit
};
static_assert(sizeof(Header) == 12);

inline constexpr uint32_t header_size = sizeof(Header);
inline constexpr uint32_t mac_length = 6;
inline constexpr uint32_t ethernet_header_size = 14;
// The largest frame after the header: a 64 KiB GSO packet plus its Ethernet header and a VLAN
// tag (what Linux's virtio-net sizes its big receive buffers for, less the header).
inline constexpr uint32_t max_frame_size = 65535 + ethernet_header_size + 4;
// A frame without GSO, for a guest that takes no TSO: MTU 1500 plus Ethernet header and VLAN tag.
inline constexpr uint32_t max_plain_frame_size = 1500 + ethernet_header_size + 4;

// The config space up to the status field; husk offers neither MQ nor MTU, so nothing beyond.
struct [[gnu::packed]] Config {
    uint8_t mac[mac_length];
    uint16_t status;
};
static_assert(sizeof(Config) == 8);

} // namespace husk::virtio::net
