// VsockMuxer state machine with a fake backend: connects in both directions, data both ways,
// credit in both directions, SHUTDOWN and RST handling, and the bounds on hostile guests.
#include "virtio/vsock/muxer.hpp"

#include "tests/unit/virtio/vsock/fake_vsock_backend.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace husk;
using husk::testing::FakeVsockBackend;

namespace {

constexpr uint64_t guest_cid = 42;
constexpr uint32_t guest_port = 4000;
constexpr uint32_t host_port = 52;
constexpr VsockConnectionKey key { guest_port, host_port };
constexpr uint32_t guest_buffer = 64 * 1024;

class VsockMuxerTest : public ::testing::Test {
protected:
    VsockPacketHeader packet(vsock::Op op, VsockConnectionKey to = key, uint32_t flags = 0)
    {
        VsockPacketHeader header {};
        header.src_cid = guest_cid;
        header.dst_cid = vsock::host_cid;
        header.src_port = to.guest_port;
        header.dst_port = to.host_port;
        header.type = vsock::type_stream;
        header.op = static_cast<uint16_t>(op);
        header.flags = flags;
        header.buf_alloc = buf_alloc;
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

// --- credit, host → guest ---

TEST_F(VsockMuxerTest, GuestWithZeroCredit_GetsNoDataUntilCreditUpdate)
{
    buf_alloc = 0;
    connect();
    backend.host_data[key] = "waiting";
    muxer.host_readable(key);

    auto ask = pop();
    ASSERT_TRUE(ask);
    EXPECT_EQ(op_of(*ask), vsock::Op::CreditRequest); // one nudge, no data
    EXPECT_FALSE(pop());
    EXPECT_EQ(backend.reads, 0u);

    buf_alloc = 4;
    send(vsock::Op::CreditUpdate);
    auto data = pop();

    ASSERT_TRUE(data);
    EXPECT_EQ(payload_of(*data), "wait");
    auto again = pop();
    ASSERT_TRUE(again);
    EXPECT_EQ(op_of(*again), vsock::Op::CreditRequest); // credit used up again

    fwd_cnt = 4; // the guest read those 4 bytes
    send(vsock::Op::CreditUpdate);
    auto rest = pop();
    ASSERT_TRUE(rest);
    EXPECT_EQ(payload_of(*rest), "ing");
}

TEST_F(VsockMuxerTest, GuestClaimingMoreConsumedThanSent_GetsNoCredit)
{
    connect();
    fwd_cnt = 1000; // nothing was sent yet: a lie
    send(vsock::Op::CreditUpdate);
    backend.host_data[key] = "data";

    muxer.host_readable(key);
    auto packet = pop();

    ASSERT_TRUE(packet);
    EXPECT_EQ(op_of(*packet), vsock::Op::CreditRequest);
    EXPECT_EQ(backend.reads, 0u);
}

// --- credit, guest → host ---

TEST_F(VsockMuxerTest, GuestExceedingOurCredit_IsReset)
{
    connect();
    std::string chunk(vsock::max_packet_payload, 'c');
    for (int i = 0; i < 4; ++i)
        send_data(chunk); // exactly vsock_buffer_size: allowed
    EXPECT_EQ(muxer.find(key)->state(), VsockConnectionState::Established);

    send_data("x");

    auto reset = pop();
    ASSERT_TRUE(reset);
    EXPECT_EQ(op_of(*reset), vsock::Op::Rst);
    EXPECT_EQ(muxer.stats().credit_violations, 1u);
    EXPECT_TRUE(backend.was_closed(key));
    EXPECT_EQ(backend.written[key].size(), vsock_buffer_size);
}

TEST_F(VsockMuxerTest, HostConsumed_ReturnsCreditToGuest)
{
    connect();
    std::string chunk(vsock::max_packet_payload, 'c');
    for (int i = 0; i < 4; ++i)
        send_data(chunk);

    muxer.host_consumed(key, vsock::max_packet_payload);

    auto update = pop();
    ASSERT_TRUE(update);
    EXPECT_EQ(op_of(*update), vsock::Op::CreditUpdate);
    EXPECT_EQ(update->header.fwd_cnt, vsock::max_packet_payload);
    EXPECT_EQ(update->header.buf_alloc, vsock_buffer_size);
    send_data(chunk); // fits again
    EXPECT_EQ(muxer.find(key)->state(), VsockConnectionState::Established);
}

TEST_F(VsockMuxerTest, HostConsumedBelowThreshold_SendsNoUnpromptedUpdate)
{
    connect();
    send_data("small");

    muxer.host_consumed(key, 5);

    EXPECT_FALSE(pop());
}

TEST_F(VsockMuxerTest, CreditRequest_IsAnsweredWithCurrentFwdCnt)
{
    connect();
    send_data("12345");
    muxer.host_consumed(key, 3);

    send(vsock::Op::CreditRequest);
    send(vsock::Op::CreditRequest); // repeated requests cost one reply

    auto update = pop();
    ASSERT_TRUE(update);
    EXPECT_EQ(op_of(*update), vsock::Op::CreditUpdate);
    EXPECT_EQ(update->header.fwd_cnt, 3u);
    EXPECT_FALSE(pop());
}

TEST_F(VsockMuxerTest, StalledHostReader_DoesNotHoldUpOtherConnections)
{
    VsockConnectionKey other { 4001, host_port };
    connect();
    connect(other);
    std::string chunk(vsock::max_packet_payload, 's');
    for (int i = 0; i < 4; ++i)
        send_data(chunk); // `key`'s host end never consumes: its credit is now spent

    send_data("still flowing", other);
    backend.host_data[other] = "reply";
    muxer.host_readable(other);
    auto reply = pop();

    EXPECT_EQ(backend.written[other], "still flowing");
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->header.dst_port, other.guest_port);
    EXPECT_EQ(payload_of(*reply), "reply");
}

// --- shutdown ---

TEST_F(VsockMuxerTest, GuestShutdownSend_HalfClosesHostAndKeepsReceiving)
{
    connect();

    send(vsock::Op::Shutdown, key, vsock::shutdown_send);
    backend.host_data[key] = "answer";
    muxer.host_readable(key);
    auto data = pop();

    ASSERT_EQ(backend.write_shutdowns.size(), 1u);
    EXPECT_EQ(backend.write_shutdowns[0], key);
    ASSERT_TRUE(data);
    EXPECT_EQ(payload_of(*data), "answer");
    EXPECT_EQ(muxer.find(key)->guest_shutdown(), vsock::shutdown_send);
}

TEST_F(VsockMuxerTest, GuestDataAfterShutdownSend_ResetsConnection)
{
    connect();
    send(vsock::Op::Shutdown, key, vsock::shutdown_send);

    send_data("after shutdown");

    auto reset = pop();
    ASSERT_TRUE(reset);
    EXPECT_EQ(op_of(*reset), vsock::Op::Rst);
}

TEST_F(VsockMuxerTest, GuestShutdownReceive_StopsHostData)
{
    connect();
    backend.host_data[key] = "unwanted";

    send(vsock::Op::Shutdown, key, vsock::shutdown_receive);
    muxer.host_readable(key);

    EXPECT_FALSE(pop());
    EXPECT_EQ(backend.reads, 0u);
}

TEST_F(VsockMuxerTest, GuestShutdownBoth_AllConsumed_AnswersRstAndCloses)
{
    connect();

    send(vsock::Op::Shutdown, key, vsock::shutdown_both);

    auto reset = pop();
    ASSERT_TRUE(reset);
    EXPECT_EQ(op_of(*reset), vsock::Op::Rst);
    EXPECT_TRUE(backend.was_closed(key));
    EXPECT_EQ(muxer.connection_count(), 0u);
}

TEST_F(VsockMuxerTest, GuestShutdownBoth_DataInFlight_RstWaitsForHostToConsume)
{
    connect();
    send_data("pending");

    send(vsock::Op::Shutdown, key, vsock::shutdown_both);
    EXPECT_FALSE(pop());
    EXPECT_FALSE(backend.was_closed(key));

    muxer.host_consumed(key, 7);

    auto reset = pop();
    ASSERT_TRUE(reset);
    EXPECT_EQ(op_of(*reset), vsock::Op::Rst);
    EXPECT_TRUE(backend.was_closed(key));
}

TEST_F(VsockMuxerTest, HostEndOfStream_SendsRemainingDataThenShutdownSend)
{
    connect();
    backend.host_data[key] = "last words";
    backend.host_eof.insert(key);

    muxer.host_readable(key);
    auto data = pop();
    auto shutdown = pop();

    ASSERT_TRUE(data && shutdown);
    EXPECT_EQ(payload_of(*data), "last words");
    EXPECT_EQ(op_of(*shutdown), vsock::Op::Shutdown);
    EXPECT_EQ(shutdown->header.flags, vsock::shutdown_send);
    EXPECT_FALSE(pop());
    EXPECT_EQ(muxer.find(key)->state(), VsockConnectionState::Established); // the guest may still send
}

TEST_F(VsockMuxerTest, BothSidesShutSend_ConnectionEndsWithRst)
{
    connect();
    backend.host_eof.insert(key);
    muxer.host_readable(key);
    auto shutdown = pop();
    ASSERT_TRUE(shutdown);
    ASSERT_EQ(op_of(*shutdown), vsock::Op::Shutdown);

    send(vsock::Op::Shutdown, key, vsock::shutdown_send);

    auto reset = pop();
    ASSERT_TRUE(reset);
    EXPECT_EQ(op_of(*reset), vsock::Op::Rst);
    EXPECT_EQ(muxer.connection_count(), 0u);
}

TEST_F(VsockMuxerTest, HostReset_SendsRstWithoutClosingBackendAgain)
{
    connect();

    muxer.host_reset(key);

    auto reset = pop();
    ASSERT_TRUE(reset);
    EXPECT_EQ(op_of(*reset), vsock::Op::Rst);
    EXPECT_FALSE(backend.was_closed(key));
    EXPECT_EQ(muxer.connection_count(), 0u);
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
