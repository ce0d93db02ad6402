// Shared fixture for the SplitQueue tests: 1 MiB of guest memory, a MockQueue playing the
// driver, and a SplitQueue over the same rings.
#pragma once

#include "virtio/core/virtio_spec.hpp"
#include "virtio/queue/split_queue.hpp"
#include "virtio/testing/mock_queue.hpp"

#include <gtest/gtest.h>
#include <optional>
#include <vector>

namespace husk::split_queue_test {

namespace ring = husk::virtio::ring;

constexpr uint64_t memory_size = 0x100000;
constexpr GuestAddress queue_base { 0x1000 };
constexpr GuestAddress data_base { 0x10000 };
constexpr GuestAddress table_base { 0x20000 };
constexpr uint16_t queue_size = 16;
constexpr GuestAddress separate_used_ring { 0x200000 };
constexpr uint64_t used_ring_region_size = 0x1000;
constexpr uint64_t indirect = virtio::feature_mask(virtio::feature::indirect_desc);
constexpr uint64_t event_idx = virtio::feature_mask(virtio::feature::event_idx);

inline MockBuffer readable(uint64_t offset, uint32_t length)
{
    return { data_base.unchecked_add(offset), length, BufferAccess::DeviceReadable };
}
inline MockBuffer writable(uint64_t offset, uint32_t length)
{
    return { data_base.unchecked_add(offset), length, BufferAccess::DeviceWritable };
}
inline ring::Descriptor descriptor(uint64_t address, uint32_t length, uint16_t flags, uint16_t next = 0)
{
    return { address, length, flags, next };
}

class SplitQueueTest : public ::testing::Test {
protected:
    void SetUp() override { start(0); }
    void start(uint64_t features, uint16_t size = queue_size)
    {
        auto created_memory = GuestMemory::create({ { GuestAddress(0), memory_size } });
        ASSERT_TRUE(created_memory);
        memory.emplace(std::move(created_memory).value());
        auto created_driver = MockQueue::create(*memory, queue_base, size);
        ASSERT_TRUE(created_driver);
        driver.emplace(std::move(created_driver).value());
        auto created_queue = SplitQueue::create(*memory, driver->layout(), features);
        ASSERT_TRUE(created_queue) << created_queue.error().message;
        queue = std::move(created_queue).value();
    }
    // Like start(), with the used ring alone in a second region that drop_used_ring() takes away.
    // Guest memory never shrinks in the VMM; this reaches the code that defends against a used
    // ring outside it anyway.
    void start_with_separate_used_ring(uint64_t features)
    {
        auto created_memory
            = GuestMemory::create({ { GuestAddress(0), memory_size }, { separate_used_ring, used_ring_region_size } });
        ASSERT_TRUE(created_memory);
        memory.emplace(std::move(created_memory).value());
        auto created_driver = MockQueue::create(*memory, queue_base, queue_size);
        ASSERT_TRUE(created_driver);
        driver.emplace(std::move(created_driver).value());
        auto layout = driver->layout();
        layout.used_ring = separate_used_ring;
        auto created_queue = SplitQueue::create(*memory, layout, features);
        ASSERT_TRUE(created_queue) << created_queue.error().message;
        queue = std::move(created_queue).value();
    }
    // Replaces guest memory, in place, by its first region with the same contents.
    void drop_used_ring()
    {
        std::vector<uint8_t> contents(memory_size);
        ASSERT_TRUE(memory->read(GuestAddress(0), contents));
        auto smaller = GuestMemory::create({ { GuestAddress(0), memory_size } });
        ASSERT_TRUE(smaller);
        ASSERT_TRUE(smaller->write(GuestAddress(0), contents));
        *memory = std::move(smaller).value();
    }

    // Pops expecting a guest fault and returns it.
    QueueError pop_error()
    {
        auto popped = queue.pop();
        EXPECT_TRUE(popped.has_error());
        return popped.has_error() ? popped.error()
                                  : QueueError { QueueErrorKind::AvailRingUnreadable, std::nullopt, "no error" };
    }

    std::optional<GuestMemory> memory;
    std::optional<MockQueue> driver;
    SplitQueue queue;
};

} // namespace husk::split_queue_test
