// VsockMuxer with a fake backend: connects in both directions, data both ways, RST handling and
// the bounds on hostile guests. Credit and SHUTDOWN are in muxer_flow_test.cpp.
#include "virtio/vsock/muxer.hpp"

#include "tests/unit/virtio/vsock/muxer_test_fixture.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace husk;
using namespace husk::testing;

namespace {

// --- connecting ---

TEST_F(VsockMuxerTest, GuestRequest_BackendConnects_RespondsWithHostAddressing)
{
    send(vsock::Op::Request);

    auto response = pop();
    ASSERT_TRUE(response);
    EXPECT_EQ(op_of(*response), vsock::Op::Response);
    EXPECT_EQ(response->header.src_cid, vsock::host_cid);
    EXPECT_EQ(response->header.dst_cid, guest_cid);
    EXPECT_EQ(response->header.src_port, host_port);
    EXPECT_EQ(response->header.dst_port, guest_port);
    EXPECT_EQ(response->header.type, vsock::type_stream);
    EXPECT_EQ(response->header.buf_alloc, vsock_buffer_size);
    EXPECT_EQ(response->header.len, 0u);
    ASSERT_EQ(backend.opened.size(), 1u);
    EXPECT_EQ(backend.opened[0], key);
    ASSERT_NE(muxer.find(key), nullptr);
    EXPECT_EQ(muxer.find(key)->state(), VsockConnectionState::Established);
    EXPECT_FALSE(pop());
}

TEST_F(VsockMuxerTest, GuestRequest_BackendRefuses_SendsRstAndForgetsConnection)
{
    backend.open_outcome = VsockOpenOutcome::Refused;

    send(vsock::Op::Request);

    auto reset = pop();
    ASSERT_TRUE(reset);
    EXPECT_EQ(op_of(*reset), vsock::Op::Rst);
    EXPECT_EQ(reset->header.dst_port, guest_port);
    EXPECT_EQ(muxer.connection_count(), 0u);
    EXPECT_FALSE(backend.was_closed(key)); // the backend never had the stream
}

TEST_F(VsockMuxerTest, GuestRequest_BackendInProgress_RespondsOnlyAfterResult)
{
    backend.open_outcome = VsockOpenOutcome::InProgress;
    send(vsock::Op::Request);
    EXPECT_FALSE(pop());
    EXPECT_EQ(muxer.find(key)->state(), VsockConnectionState::ConnectingToHost);

    muxer.host_connect_result(key, VsockOpenOutcome::Connected);

    auto response = pop();
    ASSERT_TRUE(response);
    EXPECT_EQ(op_of(*response), vsock::Op::Response);
}

TEST_F(VsockMuxerTest, HostConnect_GuestResponds_BackendAcceptsStream)
{
    auto connected = muxer.host_connect(1234);
    ASSERT_TRUE(connected);
    EXPECT_EQ(connected->guest_port, 1234u);
    EXPECT_GE(connected->host_port, vsock_first_ephemeral_host_port);

    auto request = pop();
    ASSERT_TRUE(request);
    EXPECT_EQ(op_of(*request), vsock::Op::Request);
    EXPECT_EQ(request->header.dst_port, 1234u);
    EXPECT_EQ(request->header.src_port, connected->host_port);
    EXPECT_TRUE(backend.accepted.empty());

    send(vsock::Op::Response, *connected);

    ASSERT_EQ(backend.accepted.size(), 1u);
    EXPECT_EQ(backend.accepted[0], *connected);
    EXPECT_EQ(muxer.find(*connected)->state(), VsockConnectionState::Established);
}

TEST_F(VsockMuxerTest, HostConnect_GuestResets_BackendStreamClosed)
{
    auto connected = muxer.host_connect(1234);
    ASSERT_TRUE(connected && pop());

    send(vsock::Op::Rst, *connected);

    EXPECT_TRUE(backend.was_closed(*connected));
    EXPECT_EQ(muxer.connection_count(), 0u);
    EXPECT_FALSE(pop()); // a RST is never answered
}

TEST_F(VsockMuxerTest, HostConnect_TwoStreamsToSamePort_GetDistinctHostPorts)
{
    auto first = muxer.host_connect(1234);
    auto second = muxer.host_connect(1234);

    ASSERT_TRUE(first && second);
    EXPECT_NE(first->host_port, second->host_port);
}

// --- data ---

TEST_F(VsockMuxerTest, GuestData_Established_ReachesBackend)
{
    connect();

    send_data("hello ");
    send_data("host");

    EXPECT_EQ(backend.written[key], "hello host");
    EXPECT_EQ(muxer.find(key)->unconsumed(), 10u);
}

TEST_F(VsockMuxerTest, HostData_Readable_ArrivesAsRwPackets)
{
    connect();
    backend.host_data[key] = "hello guest";

    muxer.host_readable(key);
    auto data = pop();

    ASSERT_TRUE(data);
    EXPECT_EQ(op_of(*data), vsock::Op::Rw);
    EXPECT_EQ(data->header.len, 11u);
    EXPECT_EQ(payload_of(*data), "hello guest");
    EXPECT_EQ(muxer.find(key)->tx_count(), 11u);
    EXPECT_FALSE(pop());
}

TEST_F(VsockMuxerTest, HostData_LargerThanRxBuffer_IsSplitAcrossPackets)
{
    connect();
    backend.host_data[key] = "0123456789";
    muxer.host_readable(key);

    std::string received;
    std::vector<uint32_t> lengths;
    while (auto data = pop(4)) { // each payload views the muxer's buffer: copy before the next pop
        received += payload_of(*data);
        lengths.push_back(data->header.len);
    }

    EXPECT_EQ(received, "0123456789");
    EXPECT_EQ(lengths, (std::vector<uint32_t> { 4, 4, 2 }));
}

TEST_F(VsockMuxerTest, DataBeforeConnectionEstablished_ResetsConnection)
{
    backend.open_outcome = VsockOpenOutcome::InProgress;
    send(vsock::Op::Request);

    send_data("too early");

    EXPECT_TRUE(backend.written[key].empty());
    auto reset = pop();
    ASSERT_TRUE(reset);
    EXPECT_EQ(op_of(*reset), vsock::Op::Rst);
    EXPECT_TRUE(backend.was_closed(key));
    EXPECT_EQ(muxer.connection_count(), 0u);
}

TEST_F(VsockMuxerTest, BackendWriteFails_ConnectionIsReset)
{
    connect();
    backend.fail_writes = true;

    send_data("lost");

    auto reset = pop();
    ASSERT_TRUE(reset);
    EXPECT_EQ(op_of(*reset), vsock::Op::Rst);
}

// --- hostile or confused guests ---

TEST_F(VsockMuxerTest, DataForUnknownConnection_IsAnsweredWithRst)
{
    send_data("nobody listens");

    auto reset = pop();
    ASSERT_TRUE(reset);
    EXPECT_EQ(op_of(*reset), vsock::Op::Rst);
    EXPECT_EQ(reset->header.dst_port, guest_port);
    EXPECT_EQ(reset->header.src_port, host_port);
    EXPECT_TRUE(backend.written.empty());
}

TEST_F(VsockMuxerTest, RstForUnknownConnection_IsIgnored)
{
    send(vsock::Op::Rst);

    EXPECT_FALSE(pop());
}

TEST_F(VsockMuxerTest, NonStreamType_IsAnsweredWithRst)
{
    auto header = packet(vsock::Op::Request);
    header.type = vsock::type_seqpacket;

    muxer.handle_guest_packet(header, {});

    auto reset = pop();
    ASSERT_TRUE(reset);
    EXPECT_EQ(op_of(*reset), vsock::Op::Rst);
    EXPECT_TRUE(backend.opened.empty());
    EXPECT_EQ(muxer.stats().rejected_packets, 1u);
}

TEST_F(VsockMuxerTest, SpoofedSourceCid_IsRejectedWithRstToTheRealGuest)
{
    auto header = packet(vsock::Op::Request);
    header.src_cid = 99;

    muxer.handle_guest_packet(header, {});

    auto reset = pop();
    ASSERT_TRUE(reset);
    EXPECT_EQ(op_of(*reset), vsock::Op::Rst);
    EXPECT_EQ(reset->header.dst_cid, guest_cid);
    EXPECT_TRUE(backend.opened.empty());
}

TEST_F(VsockMuxerTest, DuplicateRequest_ResetsExistingConnection)
{
    connect();

    send(vsock::Op::Request);

    auto reset = pop();
    ASSERT_TRUE(reset);
    EXPECT_EQ(op_of(*reset), vsock::Op::Rst);
    EXPECT_TRUE(backend.was_closed(key));
}

TEST_F(VsockMuxerTest, ConnectionFloodBeyondLimit_IsAnsweredWithRst)
{
    for (uint32_t port = 0; port < 8; ++port)
        connect({ 5000 + port, host_port });

    send(vsock::Op::Request, { 6000, host_port });

    auto reset = pop();
    ASSERT_TRUE(reset);
    EXPECT_EQ(op_of(*reset), vsock::Op::Rst);
    EXPECT_EQ(reset->header.dst_port, 6000u);
    EXPECT_EQ(muxer.connection_count(), 8u);
    EXPECT_EQ(backend.opened.size(), 8u);
    EXPECT_EQ(muxer.stats().connections_refused, 1u);
    EXPECT_FALSE(muxer.host_connect(1234)); // the host side shares the bound
}

TEST_F(VsockMuxerTest, OrphanResetsBeyondBound_AreDropped)
{
    for (uint32_t port = 0; port < 10; ++port)
        send_data("x", { 7000 + port, host_port });

    size_t resets = 0;
    while (pop())
        ++resets;

    EXPECT_EQ(resets, 4u);
    EXPECT_EQ(muxer.stats().resets_dropped, 6u);
}

TEST_F(VsockMuxerTest, ConnectResetLoopWithoutRxBuffers_KeepsQueueBounded)
{
    for (int round = 0; round < 1000; ++round) {
        send(vsock::Op::Request);
        send(vsock::Op::Rst);
    }

    EXPECT_EQ(muxer.connection_count(), 0u);
    EXPECT_FALSE(muxer.has_pending_rx());
}

TEST_F(VsockMuxerTest, Reset_ClosesEveryHostEnd)
{
    connect({ 1, host_port });
    connect({ 2, host_port });

    muxer.reset();

    EXPECT_EQ(backend.closed.size(), 2u);
    EXPECT_EQ(muxer.connection_count(), 0u);
    EXPECT_FALSE(muxer.has_pending_rx());
}

} // namespace
