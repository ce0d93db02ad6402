// VsockMuxerTest: the fixture shared by the muxer tests. A muxer on a FakeVsockBackend with small
// limits (8 connections, 4 orphan RSTs) and helpers that play the guest's side of the protocol.
#pragma once

#include "tests/unit/virtio/vsock/fake_vsock_backend.hpp"
#include "tests/unit/virtio/vsock/guest_packet_header.hpp"
#include "virtio/vsock/muxer.hpp"

#include <gtest/gtest.h>
#include <optional>
#include <span>
#include <string>

namespace husk::testing {

inline constexpr uint64_t guest_cid = 42;
inline constexpr uint32_t guest_port = 4000;
inline constexpr uint32_t host_port = 52;
inline constexpr VsockConnectionKey key { guest_port, host_port };
inline constexpr uint32_t guest_buffer = 64 * 1024;

class VsockMuxerTest : public ::testing::Test {
protected:
    VsockPacketHeader packet(vsock::Op op, VsockConnectionKey to = key, uint32_t flags = 0)
    {
        auto header = guest_packet_header(guest_cid, to, op, buf_alloc, flags);
        header.fwd_cnt = fwd_cnt;
        return header;
    }
    void send(vsock::Op op, VsockConnectionKey to = key, uint32_t flags = 0)
    {
        muxer.handle_guest_packet(packet(op, to, flags), {});
    }
    void send_data(std::string const& data, VsockConnectionKey to = key)
    {
        auto header = packet(vsock::Op::Rw, to);
        header.len = static_cast<uint32_t>(data.size());
        muxer.handle_guest_packet(header, std::span(reinterpret_cast<uint8_t const*>(data.data()), data.size()));
    }
    // Establishes `to` as a guest-initiated connection and takes the RESPONSE.
    void connect(VsockConnectionKey to = key)
    {
        send(vsock::Op::Request, to);
        auto response = muxer.pop_rx(4096);
        ASSERT_TRUE(response);
        ASSERT_EQ(response->header.op, static_cast<uint16_t>(vsock::Op::Response));
    }
    std::optional<VsockRxPacket> pop(uint32_t max_payload = 4096) { return muxer.pop_rx(max_payload); }
    static vsock::Op op_of(VsockRxPacket const& rx) { return static_cast<vsock::Op>(rx.header.op); }
    static std::string payload_of(VsockRxPacket const& rx) { return std::string(rx.payload.begin(), rx.payload.end()); }

    uint32_t buf_alloc { guest_buffer };
    uint32_t fwd_cnt { 0 };
    FakeVsockBackend backend;
    VsockMuxer muxer { guest_cid, backend, VsockMuxerLimits { 8, 4 } };
};

} // namespace husk::testing
