// guest_packet_header: a STREAM packet's header as the guest's driver fills it for the host, for
// the muxer and device tests.
#pragma once

#include "virtio/vsock/packet.hpp"

#include <cstdint>

namespace husk::testing {

inline VsockPacketHeader guest_packet_header(
    uint64_t guest_cid, VsockConnectionKey key, vsock::Op op, uint32_t buf_alloc, uint32_t flags = 0)
{
    VsockPacketHeader header {};
    header.src_cid = guest_cid;
    header.dst_cid = vsock::host_cid;
    header.src_port = key.guest_port;
    header.dst_port = key.host_port;
    header.type = vsock::type_stream;
    header.op = static_cast<uint16_t>(op);
    header.flags = flags;
    header.buf_alloc = buf_alloc;
    return header;
}

} // namespace husk::testing
