// DeviceTest: the gtest fixture base of the device tests, over DeviceHarness. attach() builds the
// harness around the device under test and exposes its parts under the names the tests use;
// TearDown() drops it before the test's device goes (the transport resets the device when it is
// destroyed). Derived fixtures that override TearDown() must call this one.
#pragma once

#include "virtio/testing/device_harness.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <optional>
#include <vector>

namespace husk::testing {

class DeviceTest : public ::testing::Test {
protected:
    // Replaces any earlier harness; call it from SetUp() (or again to start over).
    void attach(VirtioDevice& device, uint64_t memory_size)
    {
        harness.reset();
        auto created = DeviceHarness::create(device, memory_size);
        ASSERT_TRUE(created) << created.error().message;
        harness = std::move(created).value();
        memory = &harness->memory();
        transport = &harness->transport();
        driver = &harness->driver();
        trigger = &harness->trigger();
    }
    void TearDown() override { harness.reset(); }

    // A buffer from scratch memory, every byte `fill` so untouched bytes are visible.
    MockBuffer buffer(uint32_t length, BufferAccess access = BufferAccess::DeviceWritable, uint8_t fill = 0xee)
    {
        auto made = harness->buffer(length, access, fill);
        EXPECT_TRUE(made) << made.error().message;
        return made ? *made : MockBuffer {};
    }
    std::vector<uint8_t> bytes_at(GuestAddress address, size_t length)
    {
        auto bytes = harness->bytes_at(address, length);
        EXPECT_TRUE(bytes) << bytes.error().message;
        return bytes ? *bytes : std::vector<uint8_t> {};
    }
    // The next used entry of `queue` the driver has not consumed, if any.
    std::optional<virtio::ring::UsedElement> next_used(uint16_t queue = 0)
    {
        auto used = driver->queue(queue).pop_used();
        EXPECT_TRUE(used);
        return used ? *used : std::nullopt;
    }

    std::unique_ptr<DeviceHarness> harness;
    GuestMemory* memory { nullptr };
    MmioTransport* transport { nullptr };
    MockDriver* driver { nullptr };
    CountingInterruptTrigger* trigger { nullptr };
};

} // namespace husk::testing
