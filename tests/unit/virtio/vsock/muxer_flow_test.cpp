// VsockMuxer flow control and closing: credit in both directions (zero credit, lying guests,
// guests exceeding our buffer, CREDIT_UPDATE/CREDIT_REQUEST, a stalled host reader) and the
// SHUTDOWN flags with the RST that ends a connection.
#include "tests/unit/virtio/vsock/muxer_test_fixture.hpp"

#include <gtest/gtest.h>
#include <string>

using namespace husk;
using namespace husk::testing;

namespace {

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

} // namespace
