// NetDevice on a FakeNetBackend: identity and features, receive offloads applied from what the
// guest acked, receives into one or several (mergeable) buffers with num_buffers, the receive
// restarted when the guest posts buffers late, cut frames dropped, a reset with a receive in
// flight, transmits with a checked header copy, malformed transmit headers refused, and both
// rate limiters holding frames until their timer. tests/unit/runtime/net/ runs the data paths
// again on the real io_uring backend over a socketpair.
#include "tests/unit/virtio/net/net_device_fixture.hpp"

using namespace husk;
using namespace husk::testing;
using namespace std::chrono_literals;

namespace {

uint16_t num_buffers_at(GuestMemory& memory, GuestAddress address)
{
    auto header = memory.read_obj<net::Header>(address);
    return header ? header->num_buffers : 0xffff;
}

} // namespace

TEST_F(NetDeviceTest, NetDevice_Config_HasMacAndLinkUp)
{
    start();
    net::Config config {};
    device->read_config(0, std::span(reinterpret_cast<uint8_t*>(&config), sizeof config));
    EXPECT_EQ(0, std::memcmp(config.mac, test_mac.data(), test_mac.size()));
    EXPECT_EQ(config.status, net::link_status::up);
}

TEST_F(NetDeviceTest, NetDevice_Features_OffloadsMergeableAndStatusOffered)
{
    start();
    for (unsigned bit : { net::feature::csum, net::feature::guest_csum, net::feature::mac, net::feature::guest_tso4,
             net::feature::guest_tso6, net::feature::host_tso4, net::feature::host_tso6, net::feature::mrg_rxbuf,
             net::feature::status })
        EXPECT_TRUE(virtio::has_feature(device->features(), bit)) << bit;
    for (unsigned bit : { net::feature::ctrl_vq, net::feature::mq, net::feature::guest_ufo, net::feature::host_ufo,
             net::feature::host_ecn })
        EXPECT_FALSE(virtio::has_feature(device->features(), bit)) << bit;
}

TEST_F(NetDeviceTest, NetDevice_FirstRxKick_AppliesTheAckedReceiveOffloads)
{
    start(~uint64_t { 0 });
    EXPECT_TRUE(backend->offload_calls.empty()); // activation runs on a vCPU thread: no backend call
    driver->kick(NetDevice::rx_queue);
    ASSERT_EQ(backend->offload_calls.size(), 1u);
    EXPECT_EQ(backend->offload_calls[0], (RxOffloads { true, true, true }));
    driver->kick(NetDevice::rx_queue);
    EXPECT_EQ(backend->offload_calls.size(), 1u);
}

TEST_F(NetDeviceTest, NetDevice_GuestTsoWithoutGuestCsum_NoReceiveOffloads)
{
    start(virtio::feature_mask(net::feature::guest_tso4) | virtio::feature_mask(net::feature::guest_tso6));
    driver->kick(NetDevice::rx_queue);
    ASSERT_EQ(backend->offload_calls.size(), 1u);
    EXPECT_EQ(backend->offload_calls[0], RxOffloads {});
}

TEST_F(NetDeviceTest, NetDevice_FrameFitsOneBuffer_UsedLengthAndNumBuffersOne)
{
    start();
    auto rx = post_rx(2048);
    ASSERT_TRUE(backend->receive);
    auto interrupts = trigger->count();
    auto bytes = with_header(net::Header {}, frame(100));
    backend->deliver(bytes);

    auto used = next_used(NetDevice::rx_queue);
    ASSERT_TRUE(used);
    EXPECT_EQ(used->length, bytes.size());
    EXPECT_EQ(num_buffers_at(*memory, rx.address), 1);
    EXPECT_EQ(bytes_at(rx.address.unchecked_add(12), 100), frame(100));
    EXPECT_EQ(trigger->count(), interrupts + 1);
    EXPECT_EQ(device->stats().rx_frames, 1u);
    EXPECT_EQ(device->stats().rx_bytes, 100u);
    EXPECT_FALSE(backend->receive); // no buffers left: no read
}

TEST_F(NetDeviceTest, NetDevice_MergeableFrame_SpansBuffersAndCountsThem)
{
    start();
    // 600-byte buffers: a receive waits for three (one MTU-sized frame and its header).
    auto first = post_rx(600);
    post_rx(600);
    EXPECT_FALSE(backend->receive);
    post_rx(600);
    ASSERT_TRUE(backend->receive);
    EXPECT_EQ(backend->receive->size(), 3u);

    backend->deliver(with_header(net::Header {}, frame(1400)));
    std::vector<uint32_t> lengths;
    while (auto used = next_used(NetDevice::rx_queue))
        lengths.push_back(used->length);
    EXPECT_EQ(lengths, (std::vector<uint32_t> { 600, 600, 212 }));
    EXPECT_EQ(num_buffers_at(*memory, first.address), 3);
}

TEST_F(NetDeviceTest, NetDevice_WithoutMergeable_OneChainPerFrameNumBuffersOne)
{
    start(features_without_guest_tso & ~virtio::feature_mask(net::feature::mrg_rxbuf));
    auto rx = post_rx(256);
    ASSERT_TRUE(backend->receive);
    EXPECT_EQ(backend->receive->size(), 1u);
    backend->deliver(with_header(net::Header {}, frame(60)));
    auto used = next_used(NetDevice::rx_queue);
    ASSERT_TRUE(used);
    EXPECT_EQ(used->length, 72u);
    EXPECT_EQ(num_buffers_at(*memory, rx.address), 1);
}

TEST_F(NetDeviceTest, NetDevice_NoReceiveBuffers_ReadStartsWhenTheGuestPostsThem)
{
    start();
    driver->kick(NetDevice::rx_queue); // the driver's first kick, before any buffer
    EXPECT_EQ(backend->receives_started, 0u);
    // The guest posts buffers later: its kick must restart reading (the lost-wakeup case).
    post_rx(2048);
    EXPECT_EQ(backend->receives_started, 1u);
}

TEST_F(NetDeviceTest, NetDevice_TruncatedFrame_DroppedAndBuffersReused)
{
    start();
    post_rx(2048);
    ASSERT_TRUE(backend->receive);
    backend->deliver(with_header(net::Header {}, frame(100)), 70000); // the tap cut a larger frame
    EXPECT_FALSE(next_used(NetDevice::rx_queue));
    EXPECT_EQ(device->stats().rx_truncated, 1u);
    ASSERT_TRUE(backend->receive); // the same buffer, read again
    EXPECT_EQ(backend->receives_started, 2u);
}

TEST_F(NetDeviceTest, NetDevice_TooSmallReceiveBuffer_ReturnedEmpty)
{
    start();
    post_rx(8);
    auto used = next_used(NetDevice::rx_queue);
    ASSERT_TRUE(used);
    EXPECT_EQ(used->length, 0u);
    EXPECT_EQ(device->stats().rx_buffers_too_small, 1u);
}

TEST_F(NetDeviceTest, NetDevice_ReceiveError_RetriedAfterABackoffTimer)
{
    start();
    post_rx(2048);
    backend->fail_receive(-EIO);
    EXPECT_EQ(device->stats().rx_errors, 1u);
    EXPECT_FALSE(backend->receive);
    ASSERT_EQ(backend->timers.size(), 1u);
    backend->fire_timer();
    EXPECT_TRUE(backend->receive);
}

TEST_F(NetDeviceTest, NetDevice_ResetWithReceiveInFlight_CancelledAndLateFrameDropped)
{
    start();
    post_rx(2048);
    ASSERT_TRUE(backend->receive);
    driver->reset(); // a vCPU thread: the device must not call the backend here
    EXPECT_EQ(backend->cancels, 0u);
    std::array<uint16_t, 2> sizes { 16, 16 };
    ASSERT_TRUE(driver->start(features_without_guest_tso, sizes));
    post_rx(2048);
    EXPECT_EQ(backend->cancels, 1u); // the first event-thread call cancels the stale read
    EXPECT_EQ(backend->receives_started, 1u);

    auto interrupts = trigger->count();
    backend->deliver(with_header(net::Header {}, frame(60))); // it finished anyway: dropped
    EXPECT_FALSE(next_used(NetDevice::rx_queue));
    EXPECT_EQ(trigger->count(), interrupts);
    EXPECT_EQ(backend->receives_started, 2u); // and a read into the new buffers starts
    EXPECT_EQ(device->stats().rx_frames, 0u);
}

TEST_F(NetDeviceTest, NetDevice_TransmitSplitChain_SentWholeWithACheckedHeaderCopy)
{
    start();
    auto bytes = with_header(net::Header {}, frame(60));
    auto first = send_tx(bytes, { 5, 30 }); // the header itself is cut in two descriptors
    ASSERT_EQ(backend->transmits.size(), 1u);
    EXPECT_EQ(backend->transmits.begin()->second, bytes);
    auto guest_header = memory->io_vector(first.address, 5);
    ASSERT_TRUE(guest_header);
    EXPECT_NE(backend->first_vector_bases[0], guest_header->iov_base); // never the guest's own header
    EXPECT_FALSE(next_used(NetDevice::tx_queue)); // returned only when the write completed

    backend->complete_transmits();
    auto used = next_used(NetDevice::tx_queue);
    ASSERT_TRUE(used);
    EXPECT_EQ(used->length, 0u);
    EXPECT_EQ(device->stats().tx_frames, 1u);
    EXPECT_EQ(device->stats().tx_bytes, 60u);
}

TEST_F(NetDeviceTest, NetDevice_MalformedTransmits_CompletedUnsentAndCounted)
{
    start(features_without_guest_tso & ~virtio::feature_mask(net::feature::csum));
    net::Header bad_gso {};
    bad_gso.gso_type = 0x42;
    net::Header partial_checksum {};
    partial_checksum.flags = net::header_flag::needs_csum;
    partial_checksum.csum_start = 34;
    partial_checksum.csum_offset = 6;
    send_tx(frame(8)); // shorter than the header
    send_tx(with_header(net::Header {}, frame(4))); // shorter than an Ethernet header
    send_tx(with_header(bad_gso, frame(60)));
    send_tx(with_header(partial_checksum, frame(60))); // CSUM not negotiated
    send_tx(with_header(net::Header {}, frame(3000))); // over one MTU without GSO

    EXPECT_TRUE(backend->transmits.empty());
    int completed = 0;
    while (auto used = next_used(NetDevice::tx_queue)) {
        EXPECT_EQ(used->length, 0u);
        ++completed;
    }
    EXPECT_EQ(completed, 5);
    EXPECT_EQ(device->stats().tx_malformed, 5u);
    EXPECT_EQ(device->stats().last_tx_problem, TxFrameProblem::OversizedFrame);
}

TEST_F(NetDeviceTest, NetDevice_TransmitByteLimit_HoldsTheFrameUntilTheTimer)
{
    start(features_without_guest_tso, {}, RateLimiterConfig { TokenBucketConfig { 1000, 0, 1000ms }, std::nullopt });
    send_tx(with_header(net::Header {}, frame(600)));
    send_tx(with_header(net::Header {}, frame(600)));
    EXPECT_EQ(backend->transmits.size(), 1u);
    ASSERT_EQ(backend->timers.size(), 1u);
    EXPECT_EQ(backend->timers[0], 200ms); // 400 tokens left, 200 more at 1000/s
    EXPECT_EQ(device->stats().tx_throttled, 1u);

    now += 200ms;
    backend->fire_timer();
    EXPECT_EQ(backend->transmits.size(), 2u);
}

TEST_F(NetDeviceTest, NetDevice_ReceivePacketLimit_NextReadWaitsForTheTimer)
{
    start(features_without_guest_tso, RateLimiterConfig { std::nullopt, TokenBucketConfig { 1, 0, 1000ms } });
    post_rx(2048);
    post_rx(2048);
    ASSERT_TRUE(backend->receive);
    backend->deliver(with_header(net::Header {}, frame(60)));
    EXPECT_FALSE(backend->receive); // the frame budget for this second is spent
    ASSERT_EQ(backend->timers.size(), 1u);
    EXPECT_EQ(backend->timers[0], 1000ms);

    now += 1000ms;
    backend->fire_timer();
    EXPECT_TRUE(backend->receive);
}

TEST_F(NetDeviceTest, NetDevice_RingSmallerThanAGsoFrame_ReadsIntoAllItHas)
{
    // GUEST_TSO acked: a receive wants 64 KiB of buffers, more than 16 chains of 1 KiB hold.
    start(~uint64_t { 0 });
    for (int i = 0; i < 15; ++i)
        post_rx(1024);
    EXPECT_FALSE(backend->receive);
    post_rx(1024); // the whole ring is posted: read into it rather than wait forever
    ASSERT_TRUE(backend->receive);
    EXPECT_EQ(backend->receive->size(), 16u);
}

TEST_F(NetDeviceTest, NetDevice_BothDirectionsLimited_SoonerWaitGetsItsOwnTimer)
{
    start(features_without_guest_tso, RateLimiterConfig { std::nullopt, TokenBucketConfig { 10, 0, 1000ms } },
        RateLimiterConfig { TokenBucketConfig { 1000, 0, 1000ms }, std::nullopt });
    send_tx(with_header(net::Header {}, frame(900)));
    send_tx(with_header(net::Header {}, frame(900))); // waits 800 ms for its bytes
    ASSERT_EQ(backend->timers.size(), 1u);
    EXPECT_EQ(backend->timers[0], 800ms);

    for (int i = 0; i < 11; ++i) // ten frames spend the receive budget of this second
        post_rx(2048, false);
    driver->kick(NetDevice::rx_queue);
    for (int i = 0; i < 10 && backend->receive; ++i)
        backend->deliver(with_header(net::Header {}, frame(60)));
    EXPECT_FALSE(backend->receive);
    ASSERT_EQ(backend->timers.size(), 2u); // the receive wait (100 ms) did not queue behind 800 ms
    EXPECT_EQ(backend->timers[1], 100ms);

    now += 100ms;
    backend->fire_timer();
    EXPECT_TRUE(backend->receive);
    EXPECT_EQ(backend->transmits.size(), 1u); // the transmit still waits for its own time
}
