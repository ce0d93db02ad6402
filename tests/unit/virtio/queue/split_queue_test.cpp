// SplitQueue: layout validation, well-formed traffic and the used ring, and one test per
// virtqueue rule of docs/security.md for direct chains. Guest side by MockQueue.
#include "tests/unit/virtio/queue/split_queue_fixture.hpp"

using namespace husk;
using namespace husk::split_queue_test;

namespace {

// --- layout validation ---

TEST_F(SplitQueueTest, SplitQueue_SizeNotPowerOfTwo_IsRejected)
{
    auto layout = driver->layout();
    for (uint16_t size : { 0, 3, 100, 512 }) {
        layout.size = size;
        EXPECT_FALSE(SplitQueue::create(*memory, layout, 0)) << size;
    }
}

TEST_F(SplitQueueTest, SplitQueue_MisalignedParts_AreRejected)
{
    auto layout = driver->layout();
    layout.descriptor_table = layout.descriptor_table.unchecked_add(8);
    EXPECT_FALSE(SplitQueue::create(*memory, layout, 0));
    layout = driver->layout();
    layout.avail_ring = layout.avail_ring.unchecked_add(1);
    EXPECT_FALSE(SplitQueue::create(*memory, layout, 0));
    layout = driver->layout();
    layout.used_ring = layout.used_ring.unchecked_add(2);
    EXPECT_FALSE(SplitQueue::create(*memory, layout, 0));
}

TEST_F(SplitQueueTest, SplitQueue_RingOutsideGuestMemory_IsRejected)
{
    auto layout = driver->layout();
    layout.used_ring = GuestAddress(memory_size - 8); // used ring of 16 entries needs 134 bytes
    auto result = SplitQueue::create(*memory, layout, 0);
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("used ring"), std::string::npos);
    layout = driver->layout();
    layout.descriptor_table = GuestAddress(UINT64_MAX - 15);
    EXPECT_FALSE(SplitQueue::create(*memory, layout, 0));
}

TEST(SplitQueue, SplitQueue_DefaultConstructed_IsInert)
{
    SplitQueue queue;
    EXPECT_FALSE(queue.is_ready());
    EXPECT_TRUE(queue.pop().is_empty());
    EXPECT_FALSE(queue.add_used(0, 0));
    EXPECT_FALSE(queue.needs_notification());
}

// --- well-formed traffic ---

TEST_F(SplitQueueTest, SplitQueue_EmptyRing_PopsNothing) { EXPECT_TRUE(queue.pop().is_empty()); }

TEST_F(SplitQueueTest, SplitQueue_ValidChain_IsCopiedInOrderWithTotals)
{
    MockBuffer buffers[] = { readable(0, 16), readable(0x100, 8), writable(0x200, 100), writable(0x300, 28) };
    auto head = driver->add_chain(buffers);
    ASSERT_TRUE(head);

    auto popped = queue.pop();

    ASSERT_TRUE(popped.has_chain());
    auto& chain = popped.chain();
    EXPECT_EQ(chain.head(), *head);
    ASSERT_EQ(chain.buffers().size(), 4u);
    EXPECT_EQ(chain.buffers()[2].address, data_base.unchecked_add(0x200));
    EXPECT_EQ(chain.buffers()[2].access, BufferAccess::DeviceWritable);
    EXPECT_EQ(chain.readable_length(), 24u);
    EXPECT_EQ(chain.writable_length(), 128u);
    EXPECT_TRUE(queue.pop().is_empty());
}

TEST_F(SplitQueueTest, SplitQueue_AvailIndexExactlyOneQueueAhead_IsAccepted)
{
    for (int i = 0; i < queue_size; ++i) {
        MockBuffer buffer[] = { writable(i * 0x100, 4) };
        ASSERT_TRUE(driver->add_chain(buffer));
    }
    for (int i = 0; i < queue_size; ++i)
        EXPECT_TRUE(queue.pop().has_chain()) << i;
    EXPECT_TRUE(queue.pop().is_empty());
}

TEST_F(SplitQueueTest, SplitQueue_IndicesWrapAround65536_KeepWorking)
{
    MockBuffer buffer[] = { writable(0, 4) };
    for (uint32_t i = 0; i < 70000; ++i) {
        ASSERT_TRUE(driver->add_chain(buffer));
        auto popped = queue.pop();
        ASSERT_TRUE(popped.has_chain()) << i;
        ASSERT_TRUE(queue.add_used(popped.chain().head(), 4));
        ASSERT_TRUE(*driver->pop_used());
    }
    EXPECT_EQ(queue.next_avail_index(), static_cast<uint16_t>(70000));
    EXPECT_EQ(*driver->used_index(), static_cast<uint16_t>(70000));
}

TEST_F(SplitQueueTest, SplitQueue_AddUsed_WritesElementAndAdvancesIndex)
{
    MockBuffer buffer[] = { writable(0, 64) };
    auto head = *driver->add_chain(buffer);
    ASSERT_TRUE(queue.pop().has_chain());

    ASSERT_TRUE(queue.add_used(head, 42));

    EXPECT_EQ(*driver->used_index(), 1);
    auto used = driver->pop_used();
    ASSERT_TRUE(used && used->has_value());
    EXPECT_EQ((*used)->id, head);
    EXPECT_EQ((*used)->length, 42u);
}

TEST_F(SplitQueueTest, SplitQueue_AddUsedHeadOutOfRange_Fails)
{
    EXPECT_FALSE(queue.add_used(queue_size, 0));
    EXPECT_EQ(*driver->used_index(), 0);
}

// --- rules: each guest fault is detected, and reported at the right level ---

TEST_F(SplitQueueTest, SplitQueue_DescriptorLoop_IsRejected)
{
    ASSERT_TRUE(driver->write_descriptor(0, descriptor(data_base.value(), 8, ring::desc_flag_next, 1)));
    ASSERT_TRUE(driver->write_descriptor(1, descriptor(data_base.value(), 8, ring::desc_flag_next, 0)));
    ASSERT_TRUE(driver->publish(0));

    auto error = pop_error();

    EXPECT_EQ(error.kind, QueueErrorKind::ChainTooLong);
    EXPECT_EQ(error.head, 0);
    EXPECT_FALSE(error.is_fatal());
}

TEST_F(SplitQueueTest, SplitQueue_SelfLoop_IsRejected)
{
    ASSERT_TRUE(driver->write_descriptor(5, descriptor(data_base.value(), 8, ring::desc_flag_next, 5)));
    ASSERT_TRUE(driver->publish(5));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::ChainTooLong);
}

TEST_F(SplitQueueTest, SplitQueue_ChainLongerThanQueue_IsRejected)
{
    // 16 descriptors chained in order, the last pointing back into the chain: 17th step.
    for (uint16_t i = 0; i < queue_size; ++i)
        ASSERT_TRUE(
            driver->write_descriptor(i, descriptor(data_base.value(), 1, ring::desc_flag_next, (i + 1) % queue_size)));
    ASSERT_TRUE(driver->publish(0));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::ChainTooLong);
}

TEST_F(SplitQueueTest, SplitQueue_ChainOfExactlyQueueSize_IsAccepted)
{
    for (uint16_t i = 0; i + 1 < queue_size; ++i)
        ASSERT_TRUE(driver->write_descriptor(i, descriptor(data_base.value(), 1, ring::desc_flag_next, i + 1)));
    ASSERT_TRUE(driver->write_descriptor(queue_size - 1, descriptor(data_base.value(), 1, 0)));
    ASSERT_TRUE(driver->publish(0));
    auto popped = queue.pop();
    ASSERT_TRUE(popped.has_chain());
    EXPECT_EQ(popped.chain().buffers().size(), queue_size);
}

TEST_F(SplitQueueTest, SplitQueue_NextOutOfRange_IsRejected)
{
    ASSERT_TRUE(driver->write_descriptor(0, descriptor(data_base.value(), 8, ring::desc_flag_next, queue_size)));
    ASSERT_TRUE(driver->publish(0));

    auto error = pop_error();

    EXPECT_EQ(error.kind, QueueErrorKind::NextOutOfRange);
    EXPECT_EQ(error.head, 0);
}

TEST_F(SplitQueueTest, SplitQueue_HeadOutOfRange_BreaksQueue)
{
    ASSERT_TRUE(driver->publish(queue_size));

    auto error = pop_error();

    EXPECT_EQ(error.kind, QueueErrorKind::HeadOutOfRange);
    EXPECT_TRUE(error.is_fatal());
    EXPECT_TRUE(queue.is_broken());
    // Even a valid chain afterwards is not processed: the ring is no longer trusted.
    MockBuffer buffer[] = { writable(0, 4) };
    ASSERT_TRUE(driver->add_chain(buffer));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::HeadOutOfRange);
}

TEST_F(SplitQueueTest, SplitQueue_AvailIndexTooFarAhead_BreaksQueue)
{
    ASSERT_TRUE(driver->set_avail_index(queue_size + 1));

    auto error = pop_error();

    EXPECT_EQ(error.kind, QueueErrorKind::AvailIndexTooFarAhead);
    EXPECT_TRUE(error.is_fatal());
    EXPECT_TRUE(queue.is_broken());
    EXPECT_EQ(queue.next_avail_index(), 0); // nothing was consumed
}

TEST_F(SplitQueueTest, SplitQueue_AvailIndexMovedBackwards_BreaksQueue)
{
    MockBuffer buffer[] = { writable(0, 4) };
    ASSERT_TRUE(driver->add_chain(buffer));
    ASSERT_TRUE(queue.pop().has_chain());
    ASSERT_TRUE(driver->set_avail_index(0)); // 0 - 1 = 65535 entries "ahead"
    EXPECT_EQ(pop_error().kind, QueueErrorKind::AvailIndexTooFarAhead);
}

TEST_F(SplitQueueTest, SplitQueue_ReadableAfterWritable_IsRejected)
{
    MockBuffer buffers[] = { writable(0, 8), readable(0x100, 8) };
    auto head = driver->add_chain(buffers);

    auto error = pop_error();

    EXPECT_EQ(error.kind, QueueErrorKind::ReadableAfterWritable);
    EXPECT_EQ(error.head, *head);
}

TEST_F(SplitQueueTest, SplitQueue_ReadableAfterZeroLengthWritable_IsRejected)
{
    MockBuffer buffers[] = { writable(0, 0), readable(0x100, 8) };
    ASSERT_TRUE(driver->add_chain(buffers));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::ReadableAfterWritable);
}

TEST_F(SplitQueueTest, SplitQueue_LengthSumOverflow_IsRejected)
{
    // Two writable descriptors of 3 GiB: the sum needs 33 bits, more than a used length holds.
    // Checked before the buffers' placement, so 1 MiB of guest memory is enough to test it.
    // Also shows the sum is not done in 32 bits, where it would wrap to 2 GiB and pass.
    ASSERT_TRUE(driver->write_descriptor(
        0, descriptor(data_base.value(), 0xc0000000, ring::desc_flag_next | ring::desc_flag_write, 1)));
    ASSERT_TRUE(driver->write_descriptor(1, descriptor(data_base.value(), 0xc0000000, ring::desc_flag_write)));
    ASSERT_TRUE(driver->publish(0));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::LengthSumOverflow);
}

TEST_F(SplitQueueTest, SplitQueue_BufferOutsideGuestMemory_IsRejected)
{
    MockBuffer buffers[] = { { GuestAddress(memory_size - 4), 8, BufferAccess::DeviceWritable } };
    ASSERT_TRUE(driver->add_chain(buffers));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::BufferOutOfMemory);

    ASSERT_TRUE(driver->write_descriptor(0, descriptor(UINT64_MAX - 2, 8, 0)));
    ASSERT_TRUE(driver->publish(0));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::BufferOutOfMemory);
}

TEST_F(SplitQueueTest, SplitQueue_DescriptorReadOnce_LaterTableChangesDoNotAffectChain)
{
    MockBuffer buffers[] = { readable(0, 16), writable(0x100, 32) };
    auto head = *driver->add_chain(buffers);
    auto popped = queue.pop();
    ASSERT_TRUE(popped.has_chain());

    // The guest rewrites the descriptors after the device copied them (a double-fetch attack).
    ASSERT_TRUE(
        driver->write_descriptor(head, descriptor(0, 0xffff, ring::desc_flag_write | ring::desc_flag_next, head)));
    ASSERT_TRUE(driver->write_descriptor((head + 1) % queue_size, descriptor(memory_size - 1, 0xffffffff, 0)));

    auto& chain = popped.chain();
    ASSERT_EQ(chain.buffers().size(), 2u);
    EXPECT_EQ(chain.buffers()[0].address, data_base);
    EXPECT_EQ(chain.buffers()[0].length, 16u);
    EXPECT_EQ(chain.buffers()[0].access, BufferAccess::DeviceReadable);
    EXPECT_EQ(chain.buffers()[1].length, 32u);
    EXPECT_EQ(chain.writable_length(), 32u);
}

TEST_F(SplitQueueTest, SplitQueue_ChainError_ConsumesOnlyThatRequest)
{
    // Descriptor 8 loops to itself; MockQueue's own chains use descriptors from 0 up.
    ASSERT_TRUE(driver->write_descriptor(8, descriptor(data_base.value(), 8, ring::desc_flag_next, 8)));
    ASSERT_TRUE(driver->publish(8));
    MockBuffer buffer[] = { writable(0, 4) };
    ASSERT_TRUE(driver->add_chain(buffer));

    EXPECT_FALSE(pop_error().is_fatal());
    EXPECT_TRUE(queue.pop().has_chain());
    EXPECT_FALSE(queue.is_broken());
}

} // namespace
