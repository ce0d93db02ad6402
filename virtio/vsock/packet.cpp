// virtio-vsock TX packet parsing and header validation.
#include "virtio/vsock/packet.hpp"

#include "virtio/queue/chain_io.hpp"

#include <string>

namespace husk {

char const* to_string(VsockPacketError error)
{
    switch (error) {
    case VsockPacketError::None:
        return "no error";
    case VsockPacketError::ShortHeader:
        return "packet shorter than its 44-byte header";
    case VsockPacketError::PayloadBeyondChain:
        return "payload length exceeds the descriptor chain";
    case VsockPacketError::PayloadTooLarge:
        return "payload length exceeds 64 KiB";
    case VsockPacketError::MemoryFault:
        return "packet buffer outside guest memory";
    case VsockPacketError::BadType:
        return "socket type is not STREAM";
    case VsockPacketError::UnknownOp:
        return "unknown operation";
    case VsockPacketError::WrongSourceCid:
        return "source CID is not the guest's";
    case VsockPacketError::WrongDestinationCid:
        return "destination CID is not the host";
    }
    return "unknown packet error";
}

VsockTxPacket read_tx_packet(GuestMemory const& memory, DescriptorChain const& chain, std::span<uint8_t> payload_buffer)
{
    VsockTxPacket packet;
    ChainReader reader(memory, chain);
    if (reader.remaining() < vsock_header_size) {
        packet.error = VsockPacketError::ShortHeader;
        return packet;
    }
    // One copy of the header: every later decision uses this copy, never guest memory again.
    auto header = reader.read_obj<VsockPacketHeader>();
    if (!header) {
        packet.error = VsockPacketError::MemoryFault;
        return packet;
    }
    packet.header = *header;
    uint32_t length = packet.header.len;
    if (length > vsock::max_packet_payload || length > payload_buffer.size()) {
        packet.error = VsockPacketError::PayloadTooLarge;
        return packet;
    }
    if (length > reader.remaining()) {
        packet.error = VsockPacketError::PayloadBeyondChain;
        return packet;
    }
    auto destination = payload_buffer.first(length);
    if (!reader.read(destination)) {
        packet.error = VsockPacketError::MemoryFault;
        return packet;
    }
    packet.payload = destination;
    return packet;
}

Result<uint32_t> write_rx_packet(GuestMemory& memory, DescriptorChain const& chain, VsockPacketHeader const& header,
    std::span<uint8_t const> payload)
{
    if (header.len != payload.size())
        return fail("vsock packet header len " + std::to_string(header.len) + " does not match its "
            + std::to_string(payload.size()) + "-byte payload");
    ChainWriter writer(memory, chain);
    if (writer.remaining() < vsock_header_size + uint64_t { payload.size() })
        return fail("vsock RX buffer of " + std::to_string(writer.remaining()) + " bytes cannot hold a "
            + std::to_string(vsock_header_size + payload.size()) + "-byte packet");
    TRY(writer.write_obj(header));
    TRY(writer.write(payload));
    // At most a header plus max_packet_payload: fits the 32-bit used length.
    return static_cast<uint32_t>(writer.bytes_written());
}

vsock::Op packet_op(VsockPacketHeader const& header)
{
    if (header.op > static_cast<uint16_t>(vsock::Op::CreditRequest))
        return vsock::Op::Invalid;
    return static_cast<vsock::Op>(header.op);
}

VsockPacketError validate_guest_header(VsockPacketHeader const& header, uint64_t guest_cid)
{
    if (header.src_cid != guest_cid)
        return VsockPacketError::WrongSourceCid;
    if (header.dst_cid != vsock::host_cid)
        return VsockPacketError::WrongDestinationCid;
    if (header.type != vsock::type_stream)
        return VsockPacketError::BadType;
    if (packet_op(header) == vsock::Op::Invalid)
        return VsockPacketError::UnknownOp;
    return VsockPacketError::None;
}

} // namespace husk
