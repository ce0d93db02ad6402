// SplitQueue when the used ring cannot be written: a ring-level fault of its own kind,
// UsedRingUnwritable, which breaks the queue like the other ring-level faults.
#include "tests/unit/virtio/queue/split_queue_fixture.hpp"

using namespace husk;
using namespace husk::split_queue_test;

namespace {

TEST_F(SplitQueueTest, SplitQueue_UsedRingOutsideMemory_AddUsedFailsAsUsedRingUnwritable)
{
    start_with_separate_used_ring(0);
    MockBuffer buffer[] = { writable(0, 4) };
    auto head = *driver->add_chain(buffer);
    ASSERT_TRUE(driver->add_chain(buffer));
    ASSERT_TRUE(queue.pop().has_chain());
    drop_used_ring();

    auto added = queue.add_used(head, 4);

    ASSERT_FALSE(added);
    EXPECT_NE(added.error().message.find("used ring unwritable"), std::string::npos) << added.error().message;
    EXPECT_TRUE(queue.is_broken());
    EXPECT_EQ(queue.next_used_index(), 0); // the index did not move past an unwritten entry
    auto error = pop_error();
    EXPECT_EQ(error.kind, QueueErrorKind::UsedRingUnwritable);
    EXPECT_TRUE(error.is_fatal());
}

TEST_F(SplitQueueTest, SplitQueue_UsedRingOutsideMemoryWithEventIdx_EmptyPopReportsUsedRingUnwritable)
{
    start_with_separate_used_ring(event_idx);
    drop_used_ring();

    // An empty ring makes the device write avail_event, which lives in the used ring.
    auto error = pop_error();

    EXPECT_EQ(error.kind, QueueErrorKind::UsedRingUnwritable);
    EXPECT_NE(error.message().find("used->avail_event"), std::string::npos) << error.message();
    EXPECT_TRUE(queue.is_broken());
}

TEST_F(SplitQueueTest, SplitQueue_BrokenQueueThenUsedRingFault_KeepsFirstFault)
{
    start_with_separate_used_ring(0);
    MockBuffer buffer[] = { writable(0, 4) };
    auto head = *driver->add_chain(buffer);
    ASSERT_TRUE(queue.pop().has_chain());
    ASSERT_TRUE(driver->set_avail_index(100)); // more than a queue ahead: the ring breaks
    ASSERT_TRUE(pop_error().is_fatal());
    drop_used_ring();

    EXPECT_FALSE(queue.add_used(head, 4));

    EXPECT_EQ(pop_error().kind, QueueErrorKind::AvailIndexTooFarAhead);
}

TEST(QueueError, UsedRingUnwritable_HasItsOwnName)
{
    QueueError error { QueueErrorKind::UsedRingUnwritable, std::nullopt, "used->idx" };
    EXPECT_EQ(error.message(), "used ring unwritable: used->idx");
    EXPECT_TRUE(error.is_fatal());
}

} // namespace
