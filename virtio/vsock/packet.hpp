// virtio-vsock packets (virtio 1.2 §5.10.6): the 44-byte header every packet starts with, the
// protocol constants, and the parser for packets the guest posts on the TX queue. Everything in a
// TX chain is guest-controlled: the parser copies the header once (it may span descriptors),
// bounds the payload by the chain and by max_packet_payload, and reports what was wrong instead
// of trusting it. Semantic checks that need the device's identity are in validate_guest_header.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/memory/guest_memory.hpp"
#include "virtio/queue/descriptor_chain.hpp"

#include <cstdint>
#include <span>

namespace husk {

namespace vsock {

    // Well-known CIDs (§5.10.4): the host is always 2; guests get 3 and up.
    inline constexpr uint64_t host_cid = 2;
    inline constexpr uint64_t first_guest_cid = 3;
    // The upper 32 bits of a CID are reserved (§5.10.4) and U32_MAX means "any" to Linux.
    inline constexpr uint64_t last_guest_cid = 0xffff'fffe;
    constexpr bool is_valid_guest_cid(uint64_t cid) { return cid >= first_guest_cid && cid <= last_guest_cid; }

    inline constexpr uint16_t type_stream = 1;
    inline constexpr uint16_t type_seqpacket = 2; // not offered: VIRTIO_VSOCK_F_SEQPACKET is never negotiated

    enum class Op : uint16_t {
        Invalid = 0,
        Request = 1,
        Response = 2,
        Rst = 3,
        Shutdown = 4,
        Rw = 5,
        CreditUpdate = 6,
        CreditRequest = 7,
    };

    // SHUTDOWN flags: what the sender of the packet will no longer do.
    inline constexpr uint32_t shutdown_receive = 1;
    inline constexpr uint32_t shutdown_send = 2;
    inline constexpr uint32_t shutdown_both = shutdown_receive | shutdown_send;

    // Largest payload husk accepts or produces in one packet: Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE,
    // so a Linux guest never sends more and one packet never makes the event thread copy more.
    inline constexpr uint32_t max_packet_payload = 64 * 1024;

    // virtio_vsock_config (§5.10.4).
    struct Config {
        uint64_t guest_cid;
    };
    static_assert(sizeof(Config) == 8);

    // virtio_vsock_event (§5.10.6.4), for the event queue.
    struct Event {
        uint32_t id;
    };
    static_assert(sizeof(Event) == 4);
    inline constexpr uint32_t event_transport_reset = 0;

} // namespace vsock

// virtio_vsock_hdr, little-endian on the wire; husk targets x86-64 and reads it natively.
struct [[gnu::packed]] VsockPacketHeader {
    uint64_t src_cid;
    uint64_t dst_cid;
    uint32_t src_port;
    uint32_t dst_port;
    uint32_t len;
    uint16_t type;
    uint16_t op;
    uint32_t flags;
    uint32_t buf_alloc;
    uint32_t fwd_cnt;
};
static_assert(sizeof(VsockPacketHeader) == 44);
inline constexpr uint32_t vsock_header_size = sizeof(VsockPacketHeader);

// What was wrong with a TX packet. Structural errors (the first three) leave nothing trustworthy
// to answer; the semantic ones name a connection the device can reset.
enum class VsockPacketError : uint8_t {
    None,
    ShortHeader, // fewer than 44 device-readable bytes
    PayloadBeyondChain, // len larger than the readable bytes after the header
    PayloadTooLarge, // len above max_packet_payload
    MemoryFault, // a buffer could not be read (cannot happen for a chain SplitQueue checked)
    BadType, // type is not STREAM
    UnknownOp, // op 0 or above CREDIT_REQUEST
    WrongSourceCid, // src_cid is not the guest's own CID: a spoofed source
    WrongDestinationCid, // dst_cid is not the host: husk connects guests to the host only
};

char const* to_string(VsockPacketError error);

// A TX packet read out of guest memory. `payload` views the caller's buffer.
struct VsockTxPacket {
    VsockPacketError error { VsockPacketError::None };
    // Packed, but stored 8-aligned so every field sits at its natural alignment and may be
    // bound to a reference.
    alignas(8) VsockPacketHeader header {};
    std::span<uint8_t const> payload;

    bool ok() const { return error == VsockPacketError::None; }
};

// Reads the header and `len` payload bytes from the chain's device-readable buffers into
// `payload_buffer` (which must hold max_packet_payload bytes). Device-writable buffers and
// readable bytes beyond header + len are ignored. Never reads guest memory twice.
VsockTxPacket read_tx_packet(
    GuestMemory const& memory, DescriptorChain const& chain, std::span<uint8_t> payload_buffer);

// The checks that need the device's identity: STREAM type, a known op, src_cid = the guest's
// CID, dst_cid = the host. Returns None when the header is acceptable.
VsockPacketError validate_guest_header(VsockPacketHeader const& header, uint64_t guest_cid);

// Writes `header` (whose len must equal payload.size()) and `payload` into the chain's
// device-writable buffers. Returns the used length, or an error when they do not fit.
Result<uint32_t> write_rx_packet(GuestMemory& memory, DescriptorChain const& chain, VsockPacketHeader const& header,
    std::span<uint8_t const> payload);

// The header's op as the enum; Op::Invalid for anything unknown.
vsock::Op packet_op(VsockPacketHeader const& header);

} // namespace husk
