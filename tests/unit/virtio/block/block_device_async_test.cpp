// BlockDevice with a backend that completes later: requests complete in the order the backend
// finishes them, each with one interrupt, and a reset drops what is still in flight.
#include "tests/unit/virtio/block/block_device_fixture.hpp"

using namespace husk;

class BlockAsyncTest : public BlockDeviceTest {
protected:
    void SetUp() override { start(FakeBlockBackend::Mode::Deferred); }
};

TEST_F(BlockAsyncTest, BlockDevice_CompletionsOutOfOrder_UsedRingFollowsCompletionOrder)
{
    for (uint64_t i = 0; i < 3; ++i)
        backend->disk[i * 512] = static_cast<uint8_t>(0x10 + i);
    std::vector<MockBuffer> data;
    std::vector<MockBuffer> statuses;
    std::vector<uint16_t> heads;
    for (uint64_t i = 0; i < 3; ++i) {
        data.push_back(buffer(512, BufferAccess::DeviceWritable));
        statuses.push_back(status());
        auto head = driver->queue(0).add_chain(std::vector { header(blk::request_type::in, i), data[i], statuses[i] });
        ASSERT_TRUE(head);
        heads.push_back(*head);
    }
    driver->kick(0);
    EXPECT_FALSE(next_used()); // nothing done yet
    auto tags = backend->pending_tags();
    ASSERT_EQ(tags.size(), 3u);
    EXPECT_EQ(device->requests_in_flight(), 3u);

    uint16_t consumed = 0;
    for (size_t index : { 2, 0, 1 }) {
        // As Linux does with EVENT_IDX: ask for an interrupt at the next used entry.
        ASSERT_TRUE(driver->queue(0).set_used_event(consumed++));
        auto interrupts = trigger->count();
        backend->complete(tags[index]);
        auto used = next_used();
        ASSERT_TRUE(used);
        EXPECT_EQ(used->id, heads[index]);
        EXPECT_EQ(used->length, 513u);
        EXPECT_EQ(byte_at(statuses[index].address), blk::status::ok);
        EXPECT_EQ(byte_at(data[index].address), 0x10 + index);
        EXPECT_EQ(trigger->count(), interrupts + 1);
    }
    EXPECT_EQ(device->requests_in_flight(), 0u);
}

TEST_F(BlockAsyncTest, BlockDevice_CompletionWithError_ReportsIoError)
{
    auto request_status = status();
    send({ header(blk::request_type::out, 0), buffer(512, BufferAccess::DeviceReadable), request_status });
    auto tags = backend->pending_tags();
    ASSERT_EQ(tags.size(), 1u);
    backend->complete(tags[0], -ENOSPC);
    auto used = next_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(byte_at(request_status.address), blk::status::io_error);
}

TEST_F(BlockAsyncTest, BlockDevice_ResetWithRequestInFlight_LateCompletionTouchesNothing)
{
    auto request_status = status();
    send({ header(blk::request_type::flush, 0), request_status });
    auto tags = backend->pending_tags();
    ASSERT_EQ(tags.size(), 1u);
    driver->reset();
    auto interrupts = trigger->count();

    backend->complete(tags[0]);

    EXPECT_EQ(byte_at(request_status.address), 0xee);
    EXPECT_EQ(trigger->count(), interrupts);
    EXPECT_EQ(device->requests_in_flight(), 0u);
}

TEST_F(BlockAsyncTest, BlockDevice_UnknownTag_IsIgnored)
{
    device->on_block_complete(12345, 0);
    EXPECT_EQ(device->requests_in_flight(), 0u);
}
