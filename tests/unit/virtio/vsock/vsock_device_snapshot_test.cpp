// VsockDevice across a snapshot restore: the guest learns through its event queue that no
// connection survived (TRANSPORT_RESET), once, in one of the buffers it posted.
#include "virtio/vsock/vsock_device.hpp"

#include "tests/unit/virtio/testing/device_test.hpp"
#include "tests/unit/virtio/vsock/fake_vsock_backend.hpp"

#include <array>
#include <gtest/gtest.h>

using namespace husk;
using husk::testing::FakeVsockBackend;

namespace {

constexpr std::array<uint16_t, 3> queue_sizes { 64, 64, 8 };

class VsockDeviceSnapshotTest : public husk::testing::DeviceTest {
protected:
    void SetUp() override
    {
        attach(device, 0x200000);
        if (HasFatalFailure())
            return;
        ASSERT_TRUE(driver->start(0, queue_sizes));
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

TEST_F(VsockDeviceSnapshotTest, VsockDevice_AfterRestore_RefusesHostConnectsUntilTheGuestHandledTheReset)
{
    MockBuffer event_buffer[] = { buffer(sizeof(vsock::Event), BufferAccess::DeviceWritable) };
    ASSERT_TRUE(driver->queue(VsockDevice::event_queue).add_chain(event_buffer));
    after_restore();

    EXPECT_FALSE(backend.events->on_host_connect(1024).has_value());
    // A kick without a new buffer (the VMM serving every queue once at start) changes nothing.
    driver->kick(VsockDevice::event_queue);
    EXPECT_FALSE(backend.events->on_host_connect(1024).has_value());
    // The guest handled the event and gives the buffer back.
    ASSERT_TRUE(driver->queue(VsockDevice::event_queue).add_chain(event_buffer));
    driver->kick(VsockDevice::event_queue);
    EXPECT_TRUE(backend.events->on_host_connect(1024).has_value());
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
