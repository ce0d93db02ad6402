// virtio-vsock from the guest side (virtio 1.2 §5.10): queues rx 0, tx 1, event 2; packets are a
// 44-byte header and a payload. The probe connects to host port vsock_probe_port, where the lab
// suite listens on `<uds>_<port>` and answers "ping" with "pong".
#pragma once

#include "runtime/hostile.hpp"
#include "virtio/vsock/vsock_wire.hpp"

#include <cstdint>

namespace guest {

using VsockHeader = husk::VsockPacketHeader;

namespace vsock_op {
    inline constexpr uint16_t request
        = static_cast<uint16_t>(husk::vsock::Op::Request),
        response = static_cast<uint16_t>(husk::vsock::Op::Response), rst = static_cast<uint16_t>(husk::vsock::Op::Rst),
        shutdown = static_cast<uint16_t>(husk::vsock::Op::Shutdown), rw = static_cast<uint16_t>(husk::vsock::Op::Rw),
        credit_update = static_cast<uint16_t>(husk::vsock::Op::CreditUpdate),
        credit_request = static_cast<uint16_t>(husk::vsock::Op::CreditRequest);
}
inline constexpr uint16_t vsock_type_stream = husk::vsock::type_stream;
inline constexpr uint64_t vsock_host_cid = husk::vsock::host_cid;
inline constexpr uint32_t vsock_probe_port = 1234;
inline constexpr uint16_t vsock_rx_queue = 0, vsock_tx_queue = 1, vsock_event_queue = 2;
inline constexpr uint32_t vsock_rx_buffer_size = 4096;
inline constexpr uint32_t vsock_buf_alloc = 65536;

uint64_t vsock_guest_cid(Session& session);
// A header from the guest's CID to the host, STREAM, with our buffer space.
VsockHeader vsock_header(Session& session, uint16_t op, uint32_t src_port, uint32_t dst_port, uint32_t len = 0);
// Header (and payload) in one readable buffer on the tx queue; waits until the device took it.
bool vsock_send(
    Session& session, VsockHeader const& header, void const* payload = nullptr, uint64_t budget = default_wait_budget);
// Waits for an rx packet for `local_port` (any op), copying up to `capacity` payload bytes;
// the rx buffer is posted again. False on timeout or NEEDS_RESET.
bool vsock_receive(Session& session, uint32_t local_port, VsockHeader& header, void* payload = nullptr,
    uint32_t capacity = 0, uint64_t budget = default_wait_budget);
// A fresh local port for each connection.
uint32_t vsock_next_port();

} // namespace guest
