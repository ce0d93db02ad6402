// virtio-vsock packets (virtio 1.2 §5.10.6): the parser for packets the guest posts on the TX
// queue (the header and constants are in vsock_wire.hpp). Everything in a TX chain is
// guest-controlled: the parser copies the header once (it may span descriptors), bounds the
// payload by the chain and by max_packet_payload, and reports what was wrong instead of
// trusting it. Semantic checks that need the device's identity are in validate_guest_header.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/memory/guest_memory.hpp"
#include "virtio/queue/descriptor_chain.hpp"
#include "virtio/vsock/vsock_wire.hpp"

#include <cstdint>
#include <span>

namespace husk {

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
