// BlockDevice with hostile requests through the mock driver: every malformed case completes the
// chain (with a status where there is a status byte, with used length 0 where there is not) and
// leaves the device working.
#include "tests/unit/virtio/block/block_device_fixture.hpp"

#include <limits>

using namespace husk;

class BlockMalformedTest : public BlockDeviceTest {
protected:
    void SetUp() override { start(); }

    // Sends the request and expects its status byte to say `expected`, used length 1, no backend call.
    void expect_status(std::vector<MockBuffer> buffers, uint8_t expected)
    {
        backend->operations.clear();
        auto request_status = status();
        buffers.push_back(request_status);
        auto used = roundtrip(buffers);
        ASSERT_TRUE(used);
        EXPECT_EQ(used->length, 1u);
        EXPECT_EQ(byte_at(request_status.address), expected);
        EXPECT_TRUE(backend->operations.empty());
        expect_still_works();
    }
    void expect_still_works()
    {
        auto flush_status = status();
        ASSERT_TRUE(roundtrip({ header(blk::request_type::flush, 0), flush_status }));
        EXPECT_EQ(byte_at(flush_status.address), blk::status::ok);
        EXPECT_EQ(driver->status() & virtio::status::device_needs_reset, 0u);
    }
};

TEST_F(BlockMalformedTest, BlockRequest_UnknownType_IsUnsupported)
{
    expect_status({ header(99, 0) }, blk::status::unsupported);
}

TEST_F(BlockMalformedTest, BlockRequest_NoStatusDescriptor_CompletesWithZeroLength)
{
    auto used = roundtrip({ header(blk::request_type::flush, 0) });
    ASSERT_TRUE(used);
    EXPECT_EQ(used->length, 0u);
    EXPECT_EQ(device->stats().requests_unreportable, 1u);
    expect_still_works();
}

TEST_F(BlockMalformedTest, BlockRequest_EmptyStatusDescriptor_CompletesWithZeroLength)
{
    auto data = buffer(512, BufferAccess::DeviceWritable);
    auto used = roundtrip({ header(blk::request_type::in, 0), data, buffer(0, BufferAccess::DeviceWritable) });
    ASSERT_TRUE(used);
    EXPECT_EQ(used->length, 0u);
    EXPECT_EQ(byte_at(data.address), 0xee); // nothing read into it
    EXPECT_TRUE(backend->operations.empty());
    expect_still_works();
}

TEST_F(BlockMalformedTest, BlockRequest_ReadOnlyStatusDescriptor_CompletesWithZeroLength)
{
    auto readonly_status = buffer(1, BufferAccess::DeviceReadable);
    auto used = roundtrip({ header(blk::request_type::flush, 0), readonly_status });
    ASSERT_TRUE(used);
    EXPECT_EQ(used->length, 0u);
    EXPECT_EQ(byte_at(readonly_status.address), 0xee);
    expect_still_works();
}

TEST_F(BlockMalformedTest, BlockRequest_ShortHeader_IsIoError)
{
    expect_status({ buffer(8, BufferAccess::DeviceReadable) }, blk::status::io_error);
}

TEST_F(BlockMalformedTest, BlockRequest_SectorBeyondCapacity_IsIoError)
{
    expect_status({ header(blk::request_type::in, disk_size / 512), buffer(512, BufferAccess::DeviceWritable) },
        blk::status::io_error);
}

TEST_F(BlockMalformedTest, BlockRequest_LengthRunsPastCapacity_IsIoError)
{
    expect_status({ header(blk::request_type::out, disk_size / 512 - 1), buffer(1024, BufferAccess::DeviceReadable) },
        blk::status::io_error);
}

TEST_F(BlockMalformedTest, BlockRequest_SectorPlusLengthOverflows_IsIoError)
{
    expect_status({ header(blk::request_type::in, std::numeric_limits<uint64_t>::max()),
                      buffer(512, BufferAccess::DeviceWritable) },
        blk::status::io_error);
}

TEST_F(BlockMalformedTest, BlockRequest_LengthNotSectorMultiple_IsIoError)
{
    expect_status(
        { header(blk::request_type::in, 0), buffer(513, BufferAccess::DeviceWritable) }, blk::status::io_error);
    expect_status(
        { header(blk::request_type::out, 0), buffer(100, BufferAccess::DeviceReadable) }, blk::status::io_error);
}

TEST_F(BlockMalformedTest, BlockRequest_ReadWithReadableData_IsIoError)
{
    expect_status(
        { header(blk::request_type::in, 0), buffer(512, BufferAccess::DeviceReadable) }, blk::status::io_error);
}

TEST_F(BlockMalformedTest, BlockRequest_GetIdBufferTooShort_IsIoError)
{
    expect_status(
        { header(blk::request_type::get_id, 0), buffer(10, BufferAccess::DeviceWritable) }, blk::status::io_error);
}

TEST_F(BlockMalformedTest, BlockRequest_DiscardWithUnmapFlag_IsUnsupported)
{
    expect_status(
        { header(blk::request_type::discard, 0), segment(0, 1, blk::segment_flag::unmap) }, blk::status::unsupported);
}

TEST_F(BlockMalformedTest, BlockRequest_WriteZeroesUnknownFlag_IsUnsupported)
{
    expect_status({ header(blk::request_type::write_zeroes, 0), segment(0, 1, 0x80) }, blk::status::unsupported);
}

TEST_F(BlockMalformedTest, BlockRequest_DiscardTwoSegments_IsIoError)
{
    expect_status({ header(blk::request_type::discard, 0), segment(0, 1, 0), segment(2, 1, 0) }, blk::status::io_error);
}

TEST_F(BlockMalformedTest, BlockRequest_DiscardBeyondCapacity_IsIoError)
{
    expect_status({ header(blk::request_type::discard, 0), segment(disk_size / 512 - 1, 2, 0) }, blk::status::io_error);
}

TEST_F(BlockMalformedTest, BlockRequest_DiscardLargerThanMaximum_IsIoError)
{
    expect_status({ header(blk::request_type::discard, 0), segment(0, BlockDevice::max_range_sectors + 1, 0) },
        blk::status::io_error);
}

TEST_F(BlockMalformedTest, BlockRequest_MalformedChain_CompletesWithZeroLength)
{
    auto& queue = driver->queue(0);
    // A descriptor whose next points at itself: a loop.
    ASSERT_TRUE(queue.write_descriptor(40, { 0x20000, 16, virtio::ring::desc_flag_next, 40 }));
    ASSERT_TRUE(queue.publish(40));
    driver->kick(0);
    auto used = next_used();
    ASSERT_TRUE(used);
    EXPECT_EQ(used->id, 40u);
    EXPECT_EQ(used->length, 0u);
    expect_still_works();
}

class BlockReadOnlyTest : public BlockDeviceTest {
protected:
    void SetUp() override { start(FakeBlockBackend::Mode::Immediate, true); }
    uint8_t status_of(std::vector<MockBuffer> buffers)
    {
        auto request_status = status();
        buffers.push_back(request_status);
        EXPECT_TRUE(roundtrip(buffers));
        return byte_at(request_status.address);
    }
};

TEST_F(BlockReadOnlyTest, BlockRequest_WriteToReadOnlyDisk_IsIoError)
{
    EXPECT_EQ(status_of({ header(blk::request_type::out, 0), buffer(512, BufferAccess::DeviceReadable) }),
        blk::status::io_error);
    EXPECT_TRUE(backend->operations.empty());
}

TEST_F(BlockReadOnlyTest, BlockRequest_DiscardAndWriteZeroesOnReadOnlyDisk_AreIoErrors)
{
    EXPECT_EQ(status_of({ header(blk::request_type::discard, 0), segment(0, 1, 0) }), blk::status::io_error);
    EXPECT_EQ(status_of({ header(blk::request_type::write_zeroes, 0), segment(0, 1, 0) }), blk::status::io_error);
    EXPECT_TRUE(backend->operations.empty());
}

TEST_F(BlockReadOnlyTest, BlockRequest_ReadFromReadOnlyDisk_Works)
{
    EXPECT_EQ(
        status_of({ header(blk::request_type::in, 0), buffer(512, BufferAccess::DeviceWritable) }), blk::status::ok);
}
