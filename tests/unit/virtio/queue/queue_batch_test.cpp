// QueueBatch, the queue-draining loop every device shares: chains in order, malformed chains
// completed empty and counted, ring-level faults ending the batch with NEEDS_RESET, the used ring
// failing as its own kind, and one notification decision per batch.
#include "tests/unit/virtio/queue/split_queue_fixture.hpp"
#include "virtio/queue/queue_batch.hpp"
#include "virtio/testing/counting_interrupt_trigger.hpp"

#include <vector>

using namespace husk;
using namespace husk::split_queue_test;

namespace {

class QueueBatchTest : public SplitQueueTest {
protected:
    QueueBatch batch() { return QueueBatch(queue, interrupt, "test-device"); }
    // The used entries the driver can see, in order.
    std::vector<ring::UsedElement> used_entries()
    {
        std::vector<ring::UsedElement> entries;
        for (;;) {
            auto used = driver->pop_used();
            EXPECT_TRUE(used);
            if (!used || !used->has_value())
                return entries;
            entries.push_back(**used);
        }
    }
    // A chain whose only descriptor points at itself: a chain-level fault at head `index`.
    void publish_loop(uint16_t index)
    {
        ASSERT_TRUE(driver->write_descriptor(index, descriptor(data_base.value(), 8, ring::desc_flag_next, index)));
        ASSERT_TRUE(driver->publish(index));
    }

    CountingInterruptTrigger trigger;
    VirtioInterrupt interrupt { trigger };
};

TEST_F(QueueBatchTest, QueueBatch_SeveralChains_ServedInOrderWithWrittenLengthsAndOneInterrupt)
{
    MockBuffer buffer[] = { writable(0, 64) };
    std::vector<uint16_t> heads;
    for (int i = 0; i < 3; ++i)
        heads.push_back(*driver->add_chain(buffer));

    {
        QueueBatch batch(queue, interrupt, "test-device");
        uint32_t written = 10;
        while (auto chain = batch.next())
            batch.complete(chain->head(), written++);
        EXPECT_EQ(batch.completed(), 3u);
    }

    auto used = used_entries();
    ASSERT_EQ(used.size(), 3u);
    for (size_t i = 0; i < used.size(); ++i) {
        EXPECT_EQ(used[i].id, heads[i]);
        EXPECT_EQ(used[i].length, 10 + i);
    }
    EXPECT_EQ(trigger.count(), 1u);
    EXPECT_TRUE(interrupt.status() & virtio::interrupt_status::used_buffer);
}

TEST_F(QueueBatchTest, QueueBatch_MalformedChain_CompletedEmptyCountedAndBatchGoesOn)
{
    publish_loop(8); // MockQueue's own chains use descriptors from 0 up
    MockBuffer buffer[] = { writable(0, 4) };
    auto good = *driver->add_chain(buffer);

    QueueBatch batch(queue, interrupt, "test-device");
    auto chain = batch.next();

    ASSERT_TRUE(chain);
    EXPECT_EQ(chain->head(), good);
    batch.complete(chain->head(), 4);
    EXPECT_FALSE(batch.next());
    EXPECT_EQ(batch.chain_faults(), 1u);
    EXPECT_EQ(batch.completed(), 2u);
    EXPECT_FALSE(batch.stopped());
    EXPECT_FALSE(interrupt.needs_reset());
    batch.finish(); // publishes the batch's used entries
    auto used = used_entries();
    ASSERT_EQ(used.size(), 2u);
    EXPECT_EQ(used[0].id, 8u);
    EXPECT_EQ(used[0].length, 0u);
    EXPECT_EQ(used[1].id, good);
}

TEST_F(QueueBatchTest, QueueBatch_RingFault_MarksNeedsResetAndEndsBatch)
{
    MockBuffer buffer[] = { writable(0, 4) };
    auto head = *driver->add_chain(buffer);
    QueueBatch batch(queue, interrupt, "test-device");
    auto chain = batch.next();
    ASSERT_TRUE(chain);
    batch.complete(chain->head(), 4);
    ASSERT_TRUE(driver->set_avail_index(100)); // more than a queue ahead

    EXPECT_FALSE(batch.next());

    EXPECT_TRUE(batch.stopped());
    EXPECT_TRUE(interrupt.needs_reset());
    EXPECT_TRUE(interrupt.status() & virtio::interrupt_status::config_change);
    batch.finish();
    // What was completed before the fault is still announced.
    EXPECT_TRUE(interrupt.status() & virtio::interrupt_status::used_buffer);
    EXPECT_EQ(used_entries().front().id, head);
}

TEST_F(QueueBatchTest, QueueBatch_QueueBrokenEarlier_YieldsNothingAndReportsNothingNew)
{
    ASSERT_TRUE(driver->publish(200)); // head out of range
    {
        auto first = batch();
        EXPECT_FALSE(first.next());
        EXPECT_TRUE(first.stopped());
    }
    EXPECT_EQ(trigger.count(), 1u); // the config-change interrupt of NEEDS_RESET
    interrupt.reset();

    auto second = batch();
    EXPECT_FALSE(second.next());
    EXPECT_FALSE(second.stopped());
    EXPECT_FALSE(interrupt.needs_reset());
    EXPECT_EQ(trigger.count(), 1u);
}

TEST_F(QueueBatchTest, QueueBatch_UsedRingUnwritable_MarksNeedsResetAndEndsBatch)
{
    start_with_separate_used_ring(0);
    MockBuffer buffer[] = { writable(0, 4) };
    ASSERT_TRUE(driver->add_chain(buffer));
    ASSERT_TRUE(driver->add_chain(buffer));
    QueueBatch batch(queue, interrupt, "test-device");
    auto chain = batch.next();
    ASSERT_TRUE(chain);
    drop_used_ring();

    batch.complete(chain->head(), 4);

    EXPECT_TRUE(batch.stopped());
    EXPECT_EQ(batch.completed(), 0u);
    EXPECT_TRUE(interrupt.needs_reset());
    EXPECT_FALSE(batch.next()); // the second chain stays where it is
    EXPECT_EQ(queue.next_avail_index(), 1);
    EXPECT_EQ(pop_error().kind, QueueErrorKind::UsedRingUnwritable);
}

TEST_F(QueueBatchTest, QueueBatch_ChainFaultWithUsedRingUnwritable_EndsBatch)
{
    start_with_separate_used_ring(0);
    publish_loop(8);
    drop_used_ring();

    QueueBatch batch(queue, interrupt, "test-device");

    EXPECT_FALSE(batch.next());
    EXPECT_EQ(batch.chain_faults(), 1u);
    EXPECT_TRUE(batch.stopped());
    EXPECT_TRUE(interrupt.needs_reset());
}

TEST_F(QueueBatchTest, QueueBatch_NothingCompleted_DoesNotInterrupt)
{
    {
        auto empty = batch();
        EXPECT_FALSE(empty.next());
    }
    EXPECT_EQ(trigger.count(), 0u);
}

TEST_F(QueueBatchTest, QueueBatch_NoInterruptFlag_CompletesWithoutInterrupt)
{
    ASSERT_TRUE(driver->set_avail_flags(ring::avail_flag_no_interrupt));
    MockBuffer buffer[] = { writable(0, 4) };
    ASSERT_TRUE(driver->add_chain(buffer));
    {
        auto drain = batch();
        while (auto chain = drain.next())
            drain.complete(chain->head(), 4);
    }
    EXPECT_EQ(used_entries().size(), 1u);
    EXPECT_EQ(trigger.count(), 0u);
}

TEST_F(QueueBatchTest, QueueBatch_EventIdx_DecidesOncePerBatchOverAllItsEntries)
{
    start(event_idx);
    // The driver wants an interrupt once used->idx passes 1: inside the first batch of three.
    ASSERT_TRUE(driver->set_used_event(1));
    MockBuffer buffer[] = { writable(0, 4) };
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(driver->add_chain(buffer));
    {
        auto drain = batch();
        while (auto chain = drain.next())
            drain.complete(chain->head(), 4);
    }
    EXPECT_EQ(trigger.count(), 1u);

    // A second batch, wholly past used_event: no interrupt until the driver moves it.
    ASSERT_TRUE(driver->add_chain(buffer));
    {
        auto drain = batch();
        while (auto chain = drain.next())
            drain.complete(chain->head(), 4);
    }
    EXPECT_EQ(trigger.count(), 1u);
    // The empty pop that ended it asked to be kicked at the next entry.
    EXPECT_EQ(*driver->avail_event(), 4);
}

TEST_F(QueueBatchTest, QueueBatch_FinishTwice_DecidesOnce)
{
    MockBuffer buffer[] = { writable(0, 4) };
    ASSERT_TRUE(driver->add_chain(buffer));
    auto drain = batch();
    auto chain = drain.next();
    ASSERT_TRUE(chain);
    drain.complete(chain->head(), 4);

    drain.finish();
    drain.finish();

    EXPECT_EQ(trigger.count(), 1u);
}

TEST_F(QueueBatchTest, QueueBatch_CompletionOutsideAPop_IsAnnounced)
{
    // How a device completes a request its backend finished later: a batch of one, no pop.
    MockBuffer buffer[] = { writable(0, 4) };
    auto head = *driver->add_chain(buffer);
    ASSERT_TRUE(queue.pop().has_chain());
    {
        auto later = batch();
        later.complete(head, 3);
    }
    auto used = used_entries();
    ASSERT_EQ(used.size(), 1u);
    EXPECT_EQ(used[0].length, 3u);
    EXPECT_EQ(trigger.count(), 1u);
}

TEST_F(QueueBatchTest, QueueBatch_Completions_InvisibleToTheDriverUntilTheBatchPublishesThemAtOnce)
{
    MockBuffer buffer[] = { writable(0, 4) };
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(driver->add_chain(buffer));
    {
        auto drain = batch();
        while (auto chain = drain.next()) {
            drain.complete(chain->head(), 4);
            // The entry is written, used->idx is not: the driver reads nothing mid-batch.
            EXPECT_EQ(*driver->used_index(), 0);
        }
        EXPECT_EQ(queue.next_used_index(), 3);
        EXPECT_EQ(queue.published_used_index(), 0);
        EXPECT_EQ(trigger.count(), 0u);
    }
    // One store published all three, then one interrupt.
    EXPECT_EQ(*driver->used_index(), 3);
    EXPECT_EQ(queue.published_used_index(), 3);
    EXPECT_EQ(used_entries().size(), 3u);
    EXPECT_EQ(trigger.count(), 1u);
}

TEST_F(QueueBatchTest, QueueBatch_EventIdx_NoInterruptUntilABatchCrossesUsedEvent)
{
    start(event_idx);
    // The driver (as Linux's virtqueue_enable_cb_delayed does) asks to hear at the 5th entry.
    ASSERT_TRUE(driver->set_used_event(4));
    MockBuffer buffer[] = { writable(0, 4) };
    auto serve = [&](int chains) {
        for (int i = 0; i < chains; ++i)
            ASSERT_TRUE(driver->add_chain(buffer));
        auto drain = batch();
        while (auto chain = drain.next())
            drain.complete(chain->head(), 4);
    };
    serve(3); // used->idx 0 -> 3: entry 4 not reached
    EXPECT_EQ(trigger.count(), 0u);
    EXPECT_EQ(*driver->used_index(), 3);
    serve(3); // 3 -> 6 crosses it: one interrupt for the batch
    EXPECT_EQ(trigger.count(), 1u);
    serve(2); // 6 -> 8, past it already: none until the driver moves used_event
    EXPECT_EQ(trigger.count(), 1u);
    EXPECT_EQ(used_entries().size(), 8u);
}

} // namespace
