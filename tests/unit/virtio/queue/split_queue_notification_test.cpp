// SplitQueue notification suppression both ways: NO_INTERRUPT without EVENT_IDX; used_event
// (device -> driver) and avail_event (driver -> device) with VIRTIO_F_EVENT_IDX.
#include "tests/unit/virtio/queue/split_queue_fixture.hpp"

using namespace husk;
using namespace husk::split_queue_test;

namespace {

// --- notification suppression ---

TEST_F(SplitQueueTest, SplitQueue_NoInterruptFlagClear_NeedsNotification)
{
    MockBuffer buffer[] = { writable(0, 4) };
    auto head = *driver->add_chain(buffer);
    ASSERT_TRUE(queue.pop().has_chain());
    ASSERT_TRUE(queue.add_used(head, 4));
    EXPECT_TRUE(queue.needs_notification());
}

TEST_F(SplitQueueTest, SplitQueue_NoInterruptFlagSet_SuppressesNotification)
{
    ASSERT_TRUE(driver->set_avail_flags(ring::avail_flag_no_interrupt));
    MockBuffer buffer[] = { writable(0, 4) };
    auto head = *driver->add_chain(buffer);
    ASSERT_TRUE(queue.pop().has_chain());
    ASSERT_TRUE(queue.add_used(head, 4));
    EXPECT_FALSE(queue.needs_notification());
}

TEST_F(SplitQueueTest, SplitQueue_EventIdxUsedEvent_SuppressesInterruptsUntilPassed)
{
    start(event_idx);
    // The driver wants an interrupt once the used entry with index 2 is written (used->idx 3).
    ASSERT_TRUE(driver->set_used_event(2));
    MockBuffer buffer[] = { writable(0, 4) };
    std::vector<bool> notified;
    for (int i = 0; i < 4; ++i) {
        auto head = *driver->add_chain(buffer);
        ASSERT_TRUE(queue.pop().has_chain());
        ASSERT_TRUE(queue.add_used(head, 4));
        notified.push_back(queue.needs_notification());
    }
    EXPECT_EQ(notified, (std::vector<bool> { false, false, true, false }));
}

TEST_F(SplitQueueTest, SplitQueue_EventIdxBatch_NotifiesOnceWhenUsedEventInsideBatch)
{
    start(event_idx);
    ASSERT_TRUE(driver->set_used_event(1));
    MockBuffer buffer[] = { writable(0, 4) };
    for (int i = 0; i < 3; ++i) {
        auto head = *driver->add_chain(buffer);
        ASSERT_TRUE(queue.pop().has_chain());
        ASSERT_TRUE(queue.add_used(head, 4));
    }
    EXPECT_TRUE(queue.needs_notification());
    EXPECT_FALSE(queue.needs_notification()); // nothing new since
}

TEST_F(SplitQueueTest, SplitQueue_EventIdx_IgnoresNoInterruptFlag)
{
    start(event_idx);
    ASSERT_TRUE(driver->set_avail_flags(ring::avail_flag_no_interrupt));
    ASSERT_TRUE(driver->set_used_event(0));
    MockBuffer buffer[] = { writable(0, 4) };
    auto head = *driver->add_chain(buffer);
    ASSERT_TRUE(queue.pop().has_chain());
    ASSERT_TRUE(queue.add_used(head, 4));
    EXPECT_TRUE(queue.needs_notification());
}

TEST_F(SplitQueueTest, SplitQueue_EventIdxEmptyPop_PublishesAvailEventForNextEntry)
{
    start(event_idx);
    MockBuffer buffer[] = { writable(0, 4) };
    ASSERT_TRUE(driver->add_chain(buffer));
    ASSERT_TRUE(driver->add_chain(buffer));
    ASSERT_TRUE(queue.pop().has_chain());
    ASSERT_TRUE(queue.pop().has_chain());

    EXPECT_TRUE(queue.pop().is_empty());

    // The device asks to be kicked when entry 2 is made available: a driver publishing one more
    // entry (idx 2 -> 3) must kick, by the same event-index test the driver uses.
    auto avail_event = driver->avail_event();
    ASSERT_TRUE(avail_event);
    EXPECT_EQ(*avail_event, 2);
    EXPECT_TRUE(ring::need_event(*avail_event, 3, 2));
}

TEST_F(SplitQueueTest, SplitQueue_EventIdxBusyDevice_DoesNotRequestKicks)
{
    start(event_idx);
    MockBuffer buffer[] = { writable(0, 4) };
    ASSERT_TRUE(driver->add_chain(buffer));
    ASSERT_TRUE(queue.pop().has_chain());
    // avail_event stays at 0 while the device has not drained the ring: a driver adding entry 1
    // (idx 1 -> 2) need not kick, the device will look again before sleeping.
    EXPECT_FALSE(ring::need_event(*driver->avail_event(), 2, 1));
}

TEST_F(SplitQueueTest, SplitQueue_WithoutEventIdx_LeavesAvailEventAlone)
{
    EXPECT_TRUE(queue.pop().is_empty());
    EXPECT_EQ(*driver->avail_event(), 0);
    EXPECT_EQ(*driver->used_flags(), 0); // the device never suppresses kicks
}

TEST_F(SplitQueueTest, SplitQueue_StagedEntries_NeitherVisibleNorNotifiedUntilPublished)
{
    start(event_idx); // the decision then depends on the entries published, not only on a flag
    ASSERT_TRUE(driver->set_used_event(0));
    MockBuffer buffer[] = { writable(0, 4) };
    std::vector<uint16_t> heads;
    for (int i = 0; i < 2; ++i) {
        heads.push_back(*driver->add_chain(buffer));
        ASSERT_TRUE(queue.pop().has_chain());
    }
    ASSERT_TRUE(queue.stage_used(heads[0], 4));
    ASSERT_TRUE(queue.stage_used(heads[1], 8));
    EXPECT_EQ(*driver->used_index(), 0);
    EXPECT_FALSE(queue.needs_notification()); // nothing the driver can see yet

    ASSERT_TRUE(queue.publish_used());
    EXPECT_EQ(*driver->used_index(), 2);
    EXPECT_TRUE(queue.needs_notification());
    ASSERT_TRUE(queue.publish_used()); // nothing staged: no change
    EXPECT_EQ(*driver->used_index(), 2);
    EXPECT_FALSE(queue.needs_notification());
    auto first = driver->pop_used();
    ASSERT_TRUE(first && first->has_value());
    EXPECT_EQ((**first).id, heads[0]);
    auto second = driver->pop_used();
    ASSERT_TRUE(second && second->has_value());
    EXPECT_EQ((**second).length, 8u);
}

TEST_F(SplitQueueTest, SplitQueue_RestoredIndices_CountAsPublished)
{
    queue.restore_indices(5, 7, 7);
    EXPECT_EQ(queue.next_used_index(), 7);
    EXPECT_EQ(queue.published_used_index(), 7);
    EXPECT_TRUE(queue.publish_used()); // nothing staged: used->idx is left as the snapshot had it
    EXPECT_EQ(*driver->used_index(), 0);
}

} // namespace
