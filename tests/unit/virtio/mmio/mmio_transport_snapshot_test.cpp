// MmioTransport::save_state / restore_state: a device's queues saved with requests still
// waiting, restored into a new transport and device over a copy of guest memory, and continued
// there; and every state that does not fit the device refused.
#include "virtio/mmio/mmio_transport.hpp"

#include "tests/unit/virtio/vsock/fake_vsock_backend.hpp"
#include "virtio/rng/rng_device.hpp"
#include "virtio/testing/device_harness.hpp"
#include "virtio/vsock/vsock_device.hpp"

#include <array>
#include <gtest/gtest.h>

using namespace husk;
namespace mmio = husk::virtio::mmio;

namespace {

constexpr uint64_t memory_size = 0x100000;
constexpr std::array<uint16_t, 1> one_queue { 16 };

class FixedEntropySource final : public EntropySource {
public:
    Result<void> fill(std::span<uint8_t> destination) override
    {
        std::fill(destination.begin(), destination.end(), uint8_t { 0x5a });
        return {};
    }
};

std::unique_ptr<DeviceHarness> make_harness(VirtioDevice& device)
{
    auto harness = DeviceHarness::create(device, memory_size);
    EXPECT_TRUE(harness) << harness.error().message;
    return harness ? std::move(harness).value() : nullptr;
}

void copy_memory(GuestMemory const& from, GuestMemory& to)
{
    std::vector<uint8_t> bytes(memory_size);
    ASSERT_TRUE(from.read(GuestAddress(0), bytes));
    ASSERT_TRUE(to.write(GuestAddress(0), bytes));
}

uint16_t used_index(GuestMemory const& memory, MmioQueueState const& queue)
{
    return memory.read_obj<uint16_t>(GuestAddress(queue.used_ring + 2)).value_or(0xffff);
}

class MmioTransportSnapshotTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        original = make_harness(original_device);
        ASSERT_TRUE(original);
        ASSERT_TRUE(original->driver().start(0, one_queue));
    }
    void TearDown() override
    {
        original.reset();
        restored.reset();
    }

    FixedEntropySource source;
    RngDevice original_device { source };
    RngDevice restored_device { source };
    std::unique_ptr<DeviceHarness> original;
    std::unique_ptr<DeviceHarness> restored;
};

TEST_F(MmioTransportSnapshotTest, SaveRestore_QueueWithAPendingRequest_ContinuesInTheRestoredDevice)
{
    auto& queue = original->driver().queue(0);
    for (int i = 0; i < 2; ++i) {
        auto chunk = original->buffer(8, BufferAccess::DeviceWritable);
        ASSERT_TRUE(chunk);
        MockBuffer buffers[] = { *chunk };
        ASSERT_TRUE(queue.add_chain(buffers));
    }
    original->driver().kick(0);
    // A request posted after the last kick the device saw, as when a snapshot catches a guest
    // between posting and kicking.
    auto pending = original->buffer(8, BufferAccess::DeviceWritable, 0);
    ASSERT_TRUE(pending);
    MockBuffer pending_buffers[] = { *pending };
    auto pending_head = queue.add_chain(pending_buffers);
    ASSERT_TRUE(pending_head);

    auto state = original->transport().save_state();
    EXPECT_EQ(state.status, original->transport().device_status());
    ASSERT_EQ(state.queues.size(), 1u);
    EXPECT_TRUE(state.queues[0].ready);
    EXPECT_EQ(state.queues[0].size, 16);
    EXPECT_EQ(state.queues[0].next_avail, 2);
    EXPECT_EQ(state.queues[0].next_used, 2);
    EXPECT_EQ(state.interrupt_status, original->transport().interrupt().status());

    restored = make_harness(restored_device);
    ASSERT_TRUE(restored);
    copy_memory(original->memory(), restored->memory());
    auto restore = restored->transport().restore_state(state);
    ASSERT_TRUE(restore) << restore.error().message;

    EXPECT_EQ(restored->driver().status(), state.status);
    EXPECT_EQ(restored->driver().interrupt_status(), state.interrupt_status);
    restored->driver().write_register(mmio::queue_sel, 0);
    EXPECT_EQ(restored->driver().read_register(mmio::queue_ready), 1u);
    EXPECT_TRUE(restored->transport().is_activated());

    restored->transport().notify_queue(0);
    EXPECT_EQ(used_index(restored->memory(), state.queues[0]), 3);
    auto filled = restored->bytes_at(pending->address, 8);
    ASSERT_TRUE(filled);
    EXPECT_EQ((*filled)[0], 0x5a);
    // The original's memory is its own: the restored device wrote only into the copy.
    EXPECT_EQ(used_index(original->memory(), state.queues[0]), 2);
}

TEST_F(MmioTransportSnapshotTest, SaveRestore_DeviceNeverStarted_RestoresItsRegistersOnly)
{
    RngDevice fresh_device { source };
    auto fresh = make_harness(fresh_device);
    ASSERT_TRUE(fresh);
    auto state = fresh->transport().save_state();
    EXPECT_EQ(state.status, 0u);

    restored = make_harness(restored_device);
    ASSERT_TRUE(restored);
    ASSERT_TRUE(restored->transport().restore_state(state));
    EXPECT_FALSE(restored->transport().is_activated());
    ASSERT_TRUE(restored->driver().start(0, one_queue)); // a driver can still bring it up
}

TEST_F(MmioTransportSnapshotTest, Restore_OtherQueueCount_IsRefused)
{
    auto state = original->transport().save_state();
    husk::testing::FakeVsockBackend backend;
    VsockDevice vsock { 3, backend };
    auto other = make_harness(vsock);
    ASSERT_TRUE(other);
    auto restore = other->transport().restore_state(state);
    ASSERT_FALSE(restore);
    EXPECT_NE(restore.error().message.find("the snapshot has 1 queues, the device 3"), std::string::npos)
        << restore.error().message;
}

TEST_F(MmioTransportSnapshotTest, Restore_IntoATransportInUse_IsRefused)
{
    auto state = original->transport().save_state();
    auto restore = original->transport().restore_state(state);
    ASSERT_FALSE(restore);
    EXPECT_NE(restore.error().message.find("already in use"), std::string::npos);
}

TEST_F(MmioTransportSnapshotTest, Restore_QueueAboveTheDeviceMaximum_IsRefused)
{
    auto state = original->transport().save_state();
    state.queues[0].size = 512;
    restored = make_harness(restored_device);
    ASSERT_TRUE(restored);
    auto restore = restored->transport().restore_state(state);
    ASSERT_FALSE(restore);
    EXPECT_NE(restore.error().message.find("above its maximum"), std::string::npos);
}

TEST_F(MmioTransportSnapshotTest, Restore_QueueOutsideGuestMemory_IsRefusedAndLeavesTheDeviceInactive)
{
    auto state = original->transport().save_state();
    state.queues[0].used_ring = memory_size * 4;
    restored = make_harness(restored_device);
    ASSERT_TRUE(restored);
    auto restore = restored->transport().restore_state(state);
    ASSERT_FALSE(restore);
    EXPECT_FALSE(restored->transport().is_activated());
}

TEST_F(MmioTransportSnapshotTest, Restore_UnknownStatusOrFeatures_AreRefused)
{
    auto state = original->transport().save_state();
    state.status |= 0x100;
    restored = make_harness(restored_device);
    ASSERT_TRUE(restored);
    EXPECT_FALSE(restored->transport().restore_state(state));
    state = original->transport().save_state();
    state.driver_features |= 1ull << 40;
    EXPECT_FALSE(restored->transport().restore_state(state));
}

} // namespace
