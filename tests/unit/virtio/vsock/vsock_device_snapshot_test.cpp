// VsockDevice across a snapshot restore: the guest learns through its event queue that no
// connection survived (TRANSPORT_RESET), once, in one of the buffers it posted; a host connect
// made before it handled that waits and follows at once.
#include "virtio/vsock/vsock_device.hpp"

#include "tests/unit/virtio/testing/device_test.hpp"
#include "tests/unit/virtio/vsock/fake_vsock_backend.hpp"

#include <array>
#include <gtest/gtest.h>

using namespace husk;
using husk::testing::FakeVsockBackend;

namespace {

constexpr std::array<uint16_t, 3> snapshot_queue_sizes { 64, 64, 8 };

class VsockDeviceSnapshotTest : public husk::testing::DeviceTest {
protected:
    void SetUp() override
    {
        attach(device, 0x200000);
        if (HasFatalFailure())
            return;
        ASSERT_TRUE(driver->start(0, snapshot_queue_sizes));
    }
    void after_restore()
    {
        auto lock = transport->lock();
        device.after_restore();
    }

    FakeVsockBackend backend;
    VsockDevice device { 5, backend };
};

TEST_F(VsockDeviceSnapshotTest, VsockDevice_AfterRestore_SendsTransportResetInAnEventBuffer)
{
    MockBuffer event_buffer[] = { buffer(sizeof(vsock::Event), BufferAccess::DeviceWritable, 0xee) };
    auto head = driver->queue(VsockDevice::event_queue).add_chain(event_buffer);
    ASSERT_TRUE(head);
    auto interrupts_before = trigger->count();

    after_restore();

    auto used = next_used(VsockDevice::event_queue);
    ASSERT_TRUE(used);
    EXPECT_EQ(used->id, *head);
    EXPECT_EQ(used->length, sizeof(vsock::Event));
    auto event = memory->read_obj<vsock::Event>(event_buffer[0].address);
    ASSERT_TRUE(event);
    EXPECT_EQ(event->id, vsock::event_transport_reset);
    EXPECT_GT(trigger->count(), interrupts_before);
    EXPECT_EQ(device.stats().transport_resets_sent, 1u);
}

TEST_F(VsockDeviceSnapshotTest, VsockDevice_AfterRestore_AsksTheDriverToKickWhenTheEventBufferComesBack)
{
    // Linux posts eight event buffers: after the device takes one the ring is not empty, so only
    // an explicit avail_event makes the driver kick when it gives that one back. EVENT_IDX, as
    // Linux negotiates it.
    ASSERT_TRUE(driver->start(virtio::feature_mask(virtio::feature::event_idx), snapshot_queue_sizes));
    MockBuffer event_buffers[] = { buffer(sizeof(vsock::Event), BufferAccess::DeviceWritable),
        buffer(sizeof(vsock::Event), BufferAccess::DeviceWritable) };
    auto& event_queue = driver->queue(VsockDevice::event_queue);
    ASSERT_TRUE(event_queue.add_chain(std::span(event_buffers).first(1)));
    ASSERT_TRUE(event_queue.add_chain(std::span(event_buffers).subspan(1)));

    after_restore();

    auto avail_event = event_queue.avail_event();
    ASSERT_TRUE(avail_event);
    EXPECT_EQ(*avail_event, event_queue.avail_index());
}

TEST_F(VsockDeviceSnapshotTest, VsockDevice_AfterRestore_HoldsAHostConnectUntilTheGuestHandledTheReset)
{
    MockBuffer event_buffer[] = { buffer(sizeof(vsock::Event), BufferAccess::DeviceWritable) };
    auto& event_queue = driver->queue(VsockDevice::event_queue);
    ASSERT_TRUE(event_queue.add_chain(event_buffer));
    MockBuffer rx_buffer[] = { buffer(vsock_header_size + 64, BufferAccess::DeviceWritable) };
    ASSERT_TRUE(driver->queue(VsockDevice::rx_queue).add_chain(rx_buffer));
    after_restore();
    ASSERT_TRUE(next_used(VsockDevice::event_queue)); // the reset

    auto key = backend.events->on_host_connect(1024);

    ASSERT_TRUE(key.has_value()); // taken, not refused
    EXPECT_EQ(device.stats().host_connects_held_for_transport_reset, 1u);
    // Nothing reaches the guest yet, not even with a kick of its RX queue.
    driver->kick(VsockDevice::rx_queue);
    EXPECT_FALSE(next_used(VsockDevice::rx_queue).has_value());
    // The guest handled the event and gives the buffer back: the request follows at once.
    ASSERT_TRUE(event_queue.add_chain(event_buffer));
    driver->kick(VsockDevice::event_queue);
    auto used = next_used(VsockDevice::rx_queue);
    ASSERT_TRUE(used);
    auto request = memory->read_obj<VsockPacketHeader>(rx_buffer[0].address);
    ASSERT_TRUE(request);
    EXPECT_EQ(request->op, static_cast<uint16_t>(vsock::Op::Request));
    EXPECT_EQ(request->dst_port, 1024u);
    EXPECT_EQ(request->src_port, key->host_port);
}

TEST_F(VsockDeviceSnapshotTest, VsockDevice_AfterRestoreWithoutEventBuffers_SendsNothingAndGoesOn)
{
    after_restore();

    EXPECT_EQ(device.stats().transport_resets_sent, 0u);
    EXPECT_FALSE(next_used(VsockDevice::event_queue).has_value());
    EXPECT_TRUE(backend.events->on_host_connect(1024).has_value());
}

TEST_F(VsockDeviceSnapshotTest, VsockDevice_SupportsSnapshots)
{
    EXPECT_TRUE(device.supports_snapshot());
    EXPECT_FALSE(device.has_requests_in_flight());
}

} // namespace
