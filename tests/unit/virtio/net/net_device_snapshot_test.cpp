// NetDevice across a pause and a snapshot restore: the tap read in flight is cancelled and waited
// for, transmits in flight are waited for, receive chains the device held for the next frame and
// a transmit the rate limiter held back are un-popped (or, when that cannot be, returned empty),
// so the saved ring indices are the whole state; a device restored from them over a copy of guest
// memory receives into the buffers the guest had posted, and a device that resumes instead goes on.
#include "tests/unit/virtio/net/net_device_fixture.hpp"
#include "virtio/testing/device_harness.hpp"

#include <cerrno>

using namespace husk;
using namespace husk::testing;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t memory_size = 0x800000;
constexpr MacAddress snapshot_mac { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 };

class NetDeviceSnapshotTest : public NetDeviceTest {
protected:
    // As VirtioDevices does on the event thread: each call under the transport's lock.
    void begin_pause()
    {
        auto lock = transport->lock();
        device->begin_pause();
    }
    void end_pause()
    {
        auto lock = transport->lock();
        device->end_pause();
    }
    void prepare_snapshot()
    {
        auto lock = transport->lock();
        device->prepare_snapshot();
    }
    bool busy()
    {
        auto lock = transport->lock();
        return device->has_requests_in_flight();
    }
    // Pauses the way the VMM does: begin, wait until nothing is in flight (the fake backend
    // reports the cancelled read at once), give back what is held.
    void pause_for_snapshot()
    {
        begin_pause();
        if (backend->receive)
            backend->fail_receive(-ECANCELED);
        ASSERT_FALSE(busy());
        prepare_snapshot();
    }

    uint16_t used_index_in(GuestMemory const& in, MmioQueueState const& queue)
    {
        return in.read_obj<uint16_t>(GuestAddress(queue.used_ring + 2)).value_or(0xffff);
    }

    // A new device on a new backend and a copy of this harness's memory, restored from `state`.
    void restore_into_a_new_device(MmioTransportState const& state)
    {
        restored_backend = std::make_unique<FakeNetBackend>();
        NetDeviceConfig config;
        config.mac = test_mac;
        restored_device = std::make_unique<NetDevice>(*restored_backend, std::move(config));
        auto created = DeviceHarness::create(*restored_device, memory_size);
        ASSERT_TRUE(created) << created.error().message;
        restored = std::move(created).value();
        std::vector<uint8_t> bytes(memory_size);
        ASSERT_TRUE(memory->read(GuestAddress(0), bytes));
        ASSERT_TRUE(restored->memory().write(GuestAddress(0), bytes));
        restored_device->restore_mac(snapshot_mac);
        auto restore = restored->transport().restore_state(state);
        ASSERT_TRUE(restore) << restore.error().message;
    }

    void TearDown() override
    {
        restored.reset();
        NetDeviceTest::TearDown();
    }

    std::unique_ptr<FakeNetBackend> restored_backend;
    std::unique_ptr<NetDevice> restored_device;
    std::unique_ptr<DeviceHarness> restored;
};

TEST_F(NetDeviceSnapshotTest, NetDevice_SupportsSnapshots)
{
    start();
    EXPECT_TRUE(device->supports_snapshot());
    EXPECT_FALSE(busy());
}

TEST_F(NetDeviceSnapshotTest, NetDevice_PauseWithAReadInFlight_CancelsItAndIsBusyUntilItEnds)
{
    start();
    post_rx(2048);
    ASSERT_TRUE(backend->receive);
    EXPECT_TRUE(busy());

    begin_pause();
    EXPECT_EQ(backend->cancels, 1u);
    begin_pause(); // the VMM begins again on every retry: one cancel is enough
    EXPECT_EQ(backend->cancels, 1u);
    EXPECT_TRUE(busy());

    backend->fail_receive(-ECANCELED);
    EXPECT_FALSE(busy());
    EXPECT_FALSE(backend->receive); // no new read while paused
    EXPECT_EQ(backend->receives_started, 1u);
}

TEST_F(NetDeviceSnapshotTest, NetDevice_FrameReadBeforeTheCancel_IsDeliveredAndNothingIsStartedAfter)
{
    start();
    post_rx(2048);
    post_rx(2048, false);
    begin_pause();
    // The read had finished when the cancel came: the frame is the guest's.
    auto bytes = with_header(net::Header {}, frame(80));
    backend->deliver(bytes);

    auto used = next_used(NetDevice::rx_queue);
    ASSERT_TRUE(used);
    EXPECT_EQ(used->length, bytes.size());
    EXPECT_FALSE(backend->receive);
    EXPECT_FALSE(busy());
}

TEST_F(NetDeviceSnapshotTest, NetDevice_TransmitInFlight_IsWaitedForThenCompleted)
{
    start();
    send_tx(with_header(net::Header {}, frame(200)));
    ASSERT_EQ(backend->transmits.size(), 1u);
    begin_pause();
    EXPECT_TRUE(busy());
    // A frame the guest queued meanwhile is not started while paused.
    send_tx(with_header(net::Header {}, frame(300)));
    EXPECT_EQ(backend->transmits.size(), 1u);

    backend->complete_transmits();
    EXPECT_FALSE(busy());
    auto used = next_used(NetDevice::tx_queue);
    ASSERT_TRUE(used);
    EXPECT_FALSE(next_used(NetDevice::tx_queue));

    end_pause();
    ASSERT_EQ(backend->transmits.size(), 1u); // the waiting frame goes now
    EXPECT_EQ(backend->transmits.begin()->second.size(), sizeof(net::Header) + 300);
}

TEST_F(NetDeviceSnapshotTest, NetDevice_SnapshotWithRxBuffersPosted_RestoredDeviceReceivesIntoThem)
{
    start();
    auto rx = post_rx(2048);
    ASSERT_TRUE(backend->receive);
    EXPECT_EQ(device->held_rx_chains(), 1u);

    pause_for_snapshot();
    EXPECT_EQ(device->held_rx_chains(), 0u);
    auto state = transport->save_state();
    // The held chain was un-popped, not used: the guest's buffer is still posted.
    EXPECT_EQ(state.queues[NetDevice::rx_queue].next_avail, 0);
    EXPECT_EQ(state.queues[NetDevice::rx_queue].next_used, 0);
    EXPECT_FALSE(next_used(NetDevice::rx_queue));

    restore_into_a_new_device(state);
    if (HasFatalFailure())
        return;
    net::Config config {};
    restored_device->read_config(0, std::span(reinterpret_cast<uint8_t*>(&config), sizeof config));
    EXPECT_EQ(0, std::memcmp(config.mac, snapshot_mac.data(), snapshot_mac.size()));

    restored->transport().notify_queue(NetDevice::rx_queue); // the VMM serves every queue at start
    ASSERT_TRUE(restored_backend->receive);
    auto bytes = with_header(net::Header {}, frame(500, 9));
    restored_backend->deliver(bytes);
    EXPECT_EQ(used_index_in(restored->memory(), state.queues[NetDevice::rx_queue]), 1);
    auto written = restored->bytes_at(rx.address.unchecked_add(sizeof(net::Header)), 500);
    ASSERT_TRUE(written);
    EXPECT_EQ(*written, frame(500, 9));
    // The original's memory is its own.
    EXPECT_EQ(used_index_in(*memory, state.queues[NetDevice::rx_queue]), 0);
}

TEST_F(NetDeviceSnapshotTest, NetDevice_HeldChainsBehindACompletedOne_OlderReturnedEmptyNewerUnpopped)
{
    start(); // one frame needs 12 + 1514 bytes of mergeable buffers
    auto older = post_rx(1000);
    auto too_small = post_rx(8); // completed at once, empty: the older chain is no longer last
    auto newer = post_rx(100);
    EXPECT_FALSE(backend->receive); // 1100 bytes held, not enough for a frame
    EXPECT_EQ(device->held_rx_chains(), 2u);

    pause_for_snapshot();
    auto state = transport->save_state();
    EXPECT_EQ(state.queues[NetDevice::rx_queue].next_avail, 2); // the newer chain un-popped
    EXPECT_EQ(state.queues[NetDevice::rx_queue].next_used, 2);
    auto first = next_used(NetDevice::rx_queue);
    auto second = next_used(NetDevice::rx_queue);
    ASSERT_TRUE(first && second);
    EXPECT_EQ(first->length, 0u);
    EXPECT_EQ(second->length, 0u);
    (void)older;
    (void)too_small;
    (void)newer;
}

TEST_F(NetDeviceSnapshotTest, NetDevice_TransmitHeldByTheRateLimiter_IsUnpoppedAndSentOnceAfterResume)
{
    start(features_without_guest_tso, {}, RateLimiterConfig { TokenBucketConfig { 1000, 0, 1000ms }, std::nullopt });
    send_tx(with_header(net::Header {}, frame(600)));
    send_tx(with_header(net::Header {}, frame(600))); // held: the bucket has 400 bytes left
    ASSERT_EQ(backend->transmits.size(), 1u);
    backend->complete_transmits();
    ASSERT_TRUE(next_used(NetDevice::tx_queue));

    pause_for_snapshot();
    EXPECT_EQ(transport->save_state().queues[NetDevice::tx_queue].next_avail, 1);

    end_pause();
    now += 1000ms;
    backend->fire_timer();
    ASSERT_EQ(backend->transmits.size(), 1u);
    backend->complete_transmits();
    ASSERT_TRUE(next_used(NetDevice::tx_queue));
    EXPECT_FALSE(next_used(NetDevice::tx_queue));
    EXPECT_EQ(device->stats().tx_frames, 2u);
}

TEST_F(NetDeviceSnapshotTest, NetDevice_EndPause_ReadsAgain)
{
    start();
    post_rx(2048);
    pause_for_snapshot();
    EXPECT_FALSE(backend->receive);

    end_pause();
    ASSERT_TRUE(backend->receive); // the un-popped chain, popped again
    backend->deliver(with_header(net::Header {}, frame(60)));
    ASSERT_TRUE(next_used(NetDevice::rx_queue));
    EXPECT_EQ(device->stats().rx_frames, 1u);
}

} // namespace
