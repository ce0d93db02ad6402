// RngDevice end to end: MockDriver negotiates through MmioTransport, posts chains, kicks, and
// reads back used entries and guest memory. Covers the happy path, the per-request bound, and the
// guest faults (readable buffers, malformed chains, a broken ring).
#include "virtio/rng/rng_device.hpp"

#include "tests/unit/virtio/testing/device_test.hpp"

#include <algorithm>
#include <array>
#include <gtest/gtest.h>
#include <memory>
#include <optional>
#include <vector>

using namespace husk;
namespace ring = husk::virtio::ring;

namespace {

// Bytes 1, 2, 3, ... so tests can see exactly what arrived; can be told to fail.
class CountingEntropySource final : public EntropySource {
public:
    Result<void> fill(std::span<uint8_t> destination) override
    {
        if (broken)
            return fail("entropy source broken (test)");
        for (auto& byte : destination)
            byte = static_cast<uint8_t>(++m_next);
        return {};
    }
    bool broken { false };

private:
    uint8_t m_next { 0 };
};

constexpr std::array<uint16_t, 1> one_queue { 16 };

class RngDeviceTest : public husk::testing::DeviceTest {
protected:
    void SetUp() override
    {
        attach(device, 0x100000);
        if (HasFatalFailure())
            return;
        ASSERT_TRUE(driver->start(wanted_features(), one_queue));
    }
    virtual uint64_t wanted_features() { return 0; }

    CountingEntropySource source;
    RngDevice device { source };
};

TEST_F(RngDeviceTest, RngDevice_Identity_IsEntropyDeviceWithOneQueue)
{
    EXPECT_EQ(driver->read_register(virtio::mmio::device_id), 4u);
    driver->write_register(virtio::mmio::queue_sel, 1);
    EXPECT_EQ(driver->read_register(virtio::mmio::queue_num_max), 0u);
}

TEST_F(RngDeviceTest, RngDevice_WritableBuffer_ReceivesBytesAndExactUsedLength)
{
    MockBuffer buffers[] = { buffer(32) };
    auto head = driver->queue(0).add_chain(buffers);
    ASSERT_TRUE(head);

    driver->kick(0);

    auto used = next_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->id, *head);
    EXPECT_EQ(used->length, 32u);
    auto bytes = bytes_at(buffers[0].address, 32);
    for (size_t i = 0; i < bytes.size(); ++i)
        EXPECT_EQ(bytes[i], i + 1) << i;
    EXPECT_TRUE(driver->interrupt_status() & virtio::interrupt_status::used_buffer);
    EXPECT_EQ(trigger->count(), 1u);
    EXPECT_EQ(device.stats().bytes_provided, 32u);
}

TEST_F(RngDeviceTest, RngDevice_MultiBufferChain_FillsEveryBufferInOrder)
{
    MockBuffer buffers[] = { buffer(3), buffer(0), buffer(5) };
    ASSERT_TRUE(driver->queue(0).add_chain(buffers));

    driver->kick(0);

    auto used = next_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->length, 8u);
    EXPECT_EQ(bytes_at(buffers[0].address, 3), (std::vector<uint8_t> { 1, 2, 3 }));
    EXPECT_EQ(bytes_at(buffers[2].address, 5), (std::vector<uint8_t> { 4, 5, 6, 7, 8 }));
}

TEST_F(RngDeviceTest, RngDevice_SeveralChains_AllCompletedWithOneInterrupt)
{
    for (int i = 0; i < 5; ++i) {
        MockBuffer buffers[] = { buffer(16) };
        ASSERT_TRUE(driver->queue(0).add_chain(buffers));
    }
    driver->kick(0);
    for (int i = 0; i < 5; ++i) {
        auto used = next_used();
        ASSERT_TRUE(used) << i;
        EXPECT_EQ(used->length, 16u);
    }
    EXPECT_FALSE(next_used());
    EXPECT_EQ(trigger->count(), 1u);
}

TEST_F(RngDeviceTest, RngDevice_HugeBuffer_IsFilledOnlyUpToPerRequestBound)
{
    uint32_t length = RngDevice::max_bytes_per_request * 2;
    MockBuffer buffers[] = { buffer(length) };
    ASSERT_TRUE(driver->queue(0).add_chain(buffers));

    driver->kick(0);

    auto used = next_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->length, RngDevice::max_bytes_per_request);
    // The byte after the bound is untouched.
    EXPECT_EQ(bytes_at(buffers[0].address.unchecked_add(RngDevice::max_bytes_per_request), 1)[0], 0xee);
}

TEST_F(RngDeviceTest, RngDevice_ReadableOnlyChain_CompletesWithZeroLengthAndDeviceContinues)
{
    MockBuffer readable[] = { buffer(16, BufferAccess::DeviceReadable) };
    auto bad_head = driver->queue(0).add_chain(readable);
    MockBuffer good[] = { buffer(4) };
    auto good_head = driver->queue(0).add_chain(good);

    driver->kick(0);

    auto first = next_used();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->id, *bad_head);
    EXPECT_EQ(first->length, 0u);
    EXPECT_EQ(bytes_at(readable[0].address, 1)[0], 0xee); // never written
    auto second = next_used();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->id, *good_head);
    EXPECT_EQ(second->length, 4u);
    EXPECT_EQ(device.stats().requests_rejected, 1u);
    EXPECT_EQ(driver->status() & virtio::status::device_needs_reset, 0u);
}

TEST_F(RngDeviceTest, RngDevice_ReadableThenWritableChain_CompletesWithZeroLength)
{
    MockBuffer buffers[] = { buffer(4, BufferAccess::DeviceReadable), buffer(8) };
    ASSERT_TRUE(driver->queue(0).add_chain(buffers));
    driver->kick(0);
    auto used = next_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->length, 0u);
    EXPECT_EQ(bytes_at(buffers[1].address, 1)[0], 0xee);
}

TEST_F(RngDeviceTest, RngDevice_MalformedChain_CompletesWithErrorAndContinues)
{
    auto& queue = driver->queue(0);
    ASSERT_TRUE(queue.write_descriptor(3, { 0x20000, 8, ring::desc_flag_write | ring::desc_flag_next, 3 }));
    ASSERT_TRUE(queue.publish(3));
    MockBuffer good[] = { buffer(4) };
    ASSERT_TRUE(queue.add_chain(good));

    driver->kick(0);

    auto first = next_used();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->id, 3u);
    EXPECT_EQ(first->length, 0u);
    auto second = next_used();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->length, 4u);
}

TEST_F(RngDeviceTest, SplitQueue_AvailIndexTooFarAhead_MarksNeedsReset)
{
    ASSERT_TRUE(driver->queue(0).set_avail_index(100)); // queue size 16

    driver->kick(0);

    EXPECT_TRUE(driver->status() & virtio::status::device_needs_reset);
    EXPECT_TRUE(driver->interrupt_status() & virtio::interrupt_status::config_change);
    EXPECT_EQ(*driver->queue(0).used_index(), 0);
    // The device stays stopped until reset, then works again.
    driver->kick(0);
    EXPECT_EQ(trigger->count(), 1u);
    ASSERT_TRUE(driver->start(0, one_queue));
    MockBuffer buffers[] = { buffer(8) };
    ASSERT_TRUE(driver->queue(0).add_chain(buffers));
    driver->kick(0);
    auto used = next_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->length, 8u);
}

TEST_F(RngDeviceTest, RngDevice_HeadOutOfRange_MarksNeedsReset)
{
    ASSERT_TRUE(driver->queue(0).publish(200));
    driver->kick(0);
    EXPECT_TRUE(driver->status() & virtio::status::device_needs_reset);
}

TEST_F(RngDeviceTest, RngDevice_EntropySourceFailure_CompletesWithNothingWritten)
{
    source.broken = true;
    MockBuffer buffers[] = { buffer(16) };
    ASSERT_TRUE(driver->queue(0).add_chain(buffers));

    driver->kick(0);

    auto used = next_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->length, 0u);
    EXPECT_EQ(bytes_at(buffers[0].address, 1)[0], 0xee);
}

TEST_F(RngDeviceTest, RngDevice_NoInterruptFlag_CompletesWithoutInterrupt)
{
    ASSERT_TRUE(driver->queue(0).set_avail_flags(ring::avail_flag_no_interrupt));
    MockBuffer buffers[] = { buffer(8) };
    ASSERT_TRUE(driver->queue(0).add_chain(buffers));
    driver->kick(0);
    EXPECT_TRUE(next_used());
    EXPECT_EQ(trigger->count(), 0u);
}

TEST_F(RngDeviceTest, RngDevice_ConfigSpace_ReadsZero)
{
    std::array<uint8_t, 4> bytes { 1, 1, 1, 1 };
    transport->read(virtio::mmio::config, bytes);
    EXPECT_EQ(bytes, (std::array<uint8_t, 4> {}));
}

class RngDeviceIndirectTest : public RngDeviceTest {
protected:
    uint64_t wanted_features() override
    {
        return virtio::feature_mask(virtio::feature::indirect_desc) | virtio::feature_mask(virtio::feature::event_idx);
    }
};

TEST_F(RngDeviceIndirectTest, RngDevice_IndirectChain_IsFilled)
{
    auto table = driver->allocate(64);
    ASSERT_TRUE(table);
    MockBuffer buffers[] = { buffer(10), buffer(6) };
    ASSERT_TRUE(driver->queue(0).add_indirect_chain(*table, buffers));

    driver->kick(0);

    auto used = next_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->length, 16u);
    EXPECT_EQ(bytes_at(buffers[1].address, 6), (std::vector<uint8_t> { 11, 12, 13, 14, 15, 16 }));
}

TEST_F(RngDeviceIndirectTest, RngDevice_EventIdx_InterruptsOnlyWhenUsedEventPassed)
{
    auto& queue = driver->queue(0);
    ASSERT_TRUE(queue.set_used_event(1)); // interrupt once used->idx passes 1
    MockBuffer first[] = { buffer(4) };
    ASSERT_TRUE(queue.add_chain(first));
    driver->kick(0);
    EXPECT_EQ(trigger->count(), 0u);

    MockBuffer second[] = { buffer(4) };
    ASSERT_TRUE(queue.add_chain(second));
    driver->kick(0);
    EXPECT_EQ(trigger->count(), 1u);
    // After draining, the device asks to be kicked for the next entry.
    EXPECT_EQ(*queue.avail_event(), 2);
}

TEST(RngDeviceReal, RngDevice_GetrandomSource_FillsWithNonConstantBytes)
{
    GetrandomEntropySource source;
    RngDevice device(source);
    auto harness = DeviceHarness::create(device, 0x100000);
    ASSERT_TRUE(harness);
    auto& driver = (*harness)->driver();
    ASSERT_TRUE(driver.start(0, one_queue));
    auto buffer = (*harness)->buffer(256, BufferAccess::DeviceWritable);
    ASSERT_TRUE(buffer);
    MockBuffer buffers[] = { *buffer };
    ASSERT_TRUE(driver.queue(0).add_chain(buffers));

    driver.kick(0);

    auto used = driver.queue(0).pop_used();
    ASSERT_TRUE(used && used->has_value());
    EXPECT_EQ((*used)->length, 256u);
    auto bytes = (*harness)->bytes_at(buffer->address, 256);
    ASSERT_TRUE(bytes);
    // 256 random bytes all equal has probability 2^-2040.
    EXPECT_FALSE(std::all_of(bytes->begin(), bytes->end(), [&](uint8_t byte) { return byte == (*bytes)[0]; }));
}

} // namespace
