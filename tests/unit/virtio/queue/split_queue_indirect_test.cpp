// SplitQueue indirect descriptor tables: the well-formed case and every rule (negotiation, head
// only, no NEXT, length, size bound, nesting, loops, next range, ordering, copy-once).
#include "tests/unit/virtio/queue/split_queue_fixture.hpp"

using namespace husk;
using namespace husk::split_queue_test;

namespace {

// --- indirect tables ---

TEST_F(SplitQueueTest, SplitQueue_IndirectChain_YieldsTableBuffers)
{
    start(indirect);
    MockBuffer buffers[] = { readable(0, 16), writable(0x100, 64), writable(0x200, 64) };
    auto head = driver->add_indirect_chain(table_base, buffers);
    ASSERT_TRUE(head);

    auto popped = queue.pop();

    ASSERT_TRUE(popped.has_chain());
    EXPECT_EQ(popped.chain().head(), *head);
    ASSERT_EQ(popped.chain().buffers().size(), 3u);
    EXPECT_EQ(popped.chain().readable_length(), 16u);
    EXPECT_EQ(popped.chain().writable_length(), 128u);
}

TEST_F(SplitQueueTest, SplitQueue_IndirectNotNegotiated_IsRejected)
{
    MockBuffer buffers[] = { writable(0, 8) };
    ASSERT_TRUE(driver->add_indirect_chain(table_base, buffers));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::IndirectNotNegotiated);
}

TEST_F(SplitQueueTest, SplitQueue_NestedIndirect_IsRejected)
{
    start(indirect);
    ring::Descriptor table[] = { descriptor(table_base.value() + 0x100, 16, ring::desc_flag_indirect) };
    ASSERT_TRUE(driver->write_descriptor_table(table_base, table));
    ASSERT_TRUE(driver->write_descriptor(0, descriptor(table_base.value(), sizeof table, ring::desc_flag_indirect)));
    ASSERT_TRUE(driver->publish(0));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::NestedIndirect);
}

TEST_F(SplitQueueTest, SplitQueue_IndirectWithNext_IsRejected)
{
    start(indirect);
    ring::Descriptor table[] = { descriptor(data_base.value(), 8, ring::desc_flag_write) };
    ASSERT_TRUE(driver->write_descriptor_table(table_base, table));
    ASSERT_TRUE(driver->write_descriptor(
        0, descriptor(table_base.value(), 16, ring::desc_flag_indirect | ring::desc_flag_next, 1)));
    ASSERT_TRUE(driver->write_descriptor(1, descriptor(data_base.value(), 8, ring::desc_flag_write)));
    ASSERT_TRUE(driver->publish(0));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::IndirectWithNext);
}

TEST_F(SplitQueueTest, SplitQueue_IndirectNotAtHead_IsRejected)
{
    start(indirect);
    ASSERT_TRUE(driver->write_descriptor(0, descriptor(data_base.value(), 8, ring::desc_flag_next, 1)));
    ASSERT_TRUE(driver->write_descriptor(1, descriptor(table_base.value(), 16, ring::desc_flag_indirect)));
    ASSERT_TRUE(driver->publish(0));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::IndirectNotHead);
}

TEST_F(SplitQueueTest, SplitQueue_IndirectLengthNotMultipleOf16_IsRejected)
{
    start(indirect);
    ASSERT_TRUE(driver->write_descriptor(0, descriptor(table_base.value(), 24, ring::desc_flag_indirect)));
    ASSERT_TRUE(driver->publish(0));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::IndirectBadLength);
}

TEST_F(SplitQueueTest, SplitQueue_IndirectZeroLength_IsRejected)
{
    start(indirect);
    ASSERT_TRUE(driver->write_descriptor(0, descriptor(table_base.value(), 0, ring::desc_flag_indirect)));
    ASSERT_TRUE(driver->publish(0));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::IndirectBadLength);
}

TEST_F(SplitQueueTest, SplitQueue_IndirectTableTooLarge_IsRejected)
{
    start(indirect);
    uint32_t length = (max_indirect_descriptors + 1) * sizeof(ring::Descriptor);
    ASSERT_TRUE(driver->write_descriptor(0, descriptor(table_base.value(), length, ring::desc_flag_indirect)));
    ASSERT_TRUE(driver->publish(0));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::IndirectTableTooLarge);
}

TEST_F(SplitQueueTest, SplitQueue_IndirectTableOutsideMemory_IsRejected)
{
    start(indirect);
    ASSERT_TRUE(driver->write_descriptor(0, descriptor(memory_size - 16, 32, ring::desc_flag_indirect)));
    ASSERT_TRUE(driver->publish(0));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::DescriptorUnreadable);
}

TEST_F(SplitQueueTest, SplitQueue_IndirectLoop_IsRejected)
{
    start(indirect);
    ring::Descriptor table[] = { descriptor(data_base.value(), 8, ring::desc_flag_next, 1),
        descriptor(data_base.value(), 8, ring::desc_flag_next, 0) };
    ASSERT_TRUE(driver->write_descriptor_table(table_base, table));
    ASSERT_TRUE(driver->write_descriptor(0, descriptor(table_base.value(), sizeof table, ring::desc_flag_indirect)));
    ASSERT_TRUE(driver->publish(0));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::ChainTooLong);
}

TEST_F(SplitQueueTest, SplitQueue_IndirectNextOutOfRange_IsRejected)
{
    start(indirect);
    ring::Descriptor table[]
        = { descriptor(data_base.value(), 8, ring::desc_flag_next, 2), descriptor(data_base.value(), 8, 0) };
    ASSERT_TRUE(driver->write_descriptor_table(table_base, table));
    ASSERT_TRUE(driver->write_descriptor(0, descriptor(table_base.value(), sizeof table, ring::desc_flag_indirect)));
    ASSERT_TRUE(driver->publish(0));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::NextOutOfRange);
}

TEST_F(SplitQueueTest, SplitQueue_IndirectReadableAfterWritable_IsRejected)
{
    start(indirect);
    MockBuffer buffers[] = { writable(0, 8), readable(0x100, 8) };
    ASSERT_TRUE(driver->add_indirect_chain(table_base, buffers));
    EXPECT_EQ(pop_error().kind, QueueErrorKind::ReadableAfterWritable);
}

TEST_F(SplitQueueTest, SplitQueue_IndirectTableReadOnce_LaterTableChangesDoNotAffectChain)
{
    start(indirect);
    MockBuffer buffers[] = { writable(0, 8), writable(0x100, 8) };
    ASSERT_TRUE(driver->add_indirect_chain(table_base, buffers));
    auto popped = queue.pop();
    ASSERT_TRUE(popped.has_chain());

    ring::Descriptor evil[] = { descriptor(0, 0xffffffff, ring::desc_flag_write | ring::desc_flag_next, 0) };
    ASSERT_TRUE(driver->write_descriptor_table(table_base, evil));

    EXPECT_EQ(popped.chain().writable_length(), 16u);
    EXPECT_EQ(popped.chain().buffers()[0].address, data_base);
}

} // namespace
