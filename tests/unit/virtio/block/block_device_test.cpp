// BlockDevice through the mock driver: identity and config, the data path, GET_ID, flush,
// discard and write-zeroes, and the backend's failures.
#include "tests/unit/virtio/block/block_device_fixture.hpp"

using namespace husk;

namespace {

template<typename T>
T config_field(BlockDevice const& device, uint64_t offset)
{
    T value {};
    device.read_config(offset, std::span(reinterpret_cast<uint8_t*>(&value), sizeof value));
    return value;
}

bool has(uint64_t features, unsigned bit) { return virtio::has_feature(features, bit); }

} // namespace

TEST_F(BlockDeviceTest, BlockDevice_Identity_IsBlockDeviceWithConfigAndFeatures)
{
    start();
    EXPECT_EQ(driver->read_register(virtio::mmio::device_id), 2u);
    EXPECT_EQ(config_field<uint64_t>(*device, offsetof(blk::Config, capacity)), disk_size / 512);
    EXPECT_EQ(config_field<uint32_t>(*device, offsetof(blk::Config, seg_max)), BlockDevice::seg_max);
    EXPECT_EQ(config_field<uint32_t>(*device, offsetof(blk::Config, blk_size)), 512u);
    EXPECT_EQ(config_field<uint32_t>(*device, offsetof(blk::Config, max_discard_seg)), 1u);
    auto features = driver->device_features();
    EXPECT_TRUE(has(features, blk::feature::flush));
    EXPECT_TRUE(has(features, blk::feature::seg_max));
    EXPECT_TRUE(has(features, blk::feature::blk_size));
    EXPECT_TRUE(has(features, blk::feature::discard));
    EXPECT_TRUE(has(features, blk::feature::write_zeroes));
    EXPECT_FALSE(has(features, blk::feature::read_only));
}

TEST_F(BlockDeviceTest, BlockDevice_ReadOnlyBackend_OffersRoAndNoDiscard)
{
    start(FakeBlockBackend::Mode::Immediate, true);
    auto features = driver->device_features();
    EXPECT_TRUE(has(features, blk::feature::read_only));
    EXPECT_FALSE(has(features, blk::feature::discard));
    EXPECT_FALSE(has(features, blk::feature::write_zeroes));
}

TEST_F(BlockDeviceTest, BlockDevice_WriteThenRead_RoundTripsDataAndReportsExactUsedLengths)
{
    start();
    auto data = buffer(1024, BufferAccess::DeviceReadable, 0x5a);
    auto write_status = status();
    auto written = roundtrip({ header(blk::request_type::out, 2), data, write_status });
    ASSERT_TRUE(written);
    EXPECT_EQ(written->length, 1u); // only the status byte was written
    EXPECT_EQ(byte_at(write_status.address), blk::status::ok);
    EXPECT_EQ(backend->disk[2 * 512], 0x5a);
    EXPECT_EQ(backend->disk[2 * 512 + 1023], 0x5a);
    EXPECT_EQ(backend->disk[2 * 512 + 1024], 0);

    // Read back through two buffers of different sizes.
    auto first = buffer(512, BufferAccess::DeviceWritable);
    auto second = buffer(1024, BufferAccess::DeviceWritable);
    auto read_status = status();
    auto read = roundtrip({ header(blk::request_type::in, 2), first, second, read_status });
    ASSERT_TRUE(read);
    EXPECT_EQ(read->length, 1536u + 1);
    EXPECT_EQ(byte_at(read_status.address), blk::status::ok);
    EXPECT_EQ(bytes_at(first.address, 512), std::vector<uint8_t>(512, 0x5a));
    auto tail = bytes_at(second.address, 1024);
    EXPECT_EQ(std::vector<uint8_t>(tail.begin(), tail.begin() + 512), std::vector<uint8_t>(512, 0x5a));
    EXPECT_EQ(std::vector<uint8_t>(tail.begin() + 512, tail.end()), std::vector<uint8_t>(512, 0));
    EXPECT_EQ(device->stats().bytes_read, 1536u);
    EXPECT_EQ(device->stats().bytes_written, 1024u);
}

TEST_F(BlockDeviceTest, BlockDevice_HeaderAndDataInOneDescriptor_IsAccepted)
{
    start();
    auto merged = buffer(16 + 512, BufferAccess::DeviceReadable, 0x77);
    ASSERT_TRUE(memory->write_obj(merged.address, blk::RequestHeader { blk::request_type::out, 0, 5 }));
    auto write_status = status();
    auto used = roundtrip({ merged, write_status });
    ASSERT_TRUE(used);
    EXPECT_EQ(byte_at(write_status.address), blk::status::ok);
    EXPECT_EQ(backend->disk[5 * 512], 0x77);
    EXPECT_EQ(backend->disk[6 * 512 - 1], 0x77);
}

TEST_F(BlockDeviceTest, BlockDevice_LastSectors_AreReachable)
{
    start();
    auto data = buffer(1024, BufferAccess::DeviceWritable);
    auto read_status = status();
    ASSERT_TRUE(roundtrip({ header(blk::request_type::in, disk_size / 512 - 2), data, read_status }));
    EXPECT_EQ(byte_at(read_status.address), blk::status::ok);
}

TEST_F(BlockDeviceTest, BlockDevice_GetId_WritesTwentyBytes)
{
    start();
    auto id = buffer(20, BufferAccess::DeviceWritable);
    auto id_status = status();
    auto used = roundtrip({ header(blk::request_type::get_id, 0), id, id_status });
    ASSERT_TRUE(used);
    EXPECT_EQ(used->length, 21u);
    EXPECT_EQ(byte_at(id_status.address), blk::status::ok);
    auto bytes = bytes_at(id.address, 20);
    EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "fake-disk-0123456789");
    EXPECT_TRUE(backend->operations.empty()); // answered by the device
}

TEST_F(BlockDeviceTest, BlockDevice_Flush_ReachesBackend)
{
    start();
    auto flush_status = status();
    ASSERT_TRUE(roundtrip({ header(blk::request_type::flush, 0), flush_status }));
    EXPECT_EQ(byte_at(flush_status.address), blk::status::ok);
    ASSERT_EQ(backend->operations.size(), 1u);
    EXPECT_EQ(backend->operations[0], BlockOperation::Flush);
}

TEST_F(BlockDeviceTest, BlockDevice_Discard_ReachesBackendWithByteRange)
{
    start();
    std::fill(backend->disk.begin(), backend->disk.end(), 0x11);
    auto discard_status = status();
    ASSERT_TRUE(roundtrip({ header(blk::request_type::discard, 0), segment(8, 16, 0), discard_status }));
    EXPECT_EQ(byte_at(discard_status.address), blk::status::ok);
    ASSERT_EQ(backend->discarded.size(), 1u);
    EXPECT_EQ(backend->discarded[0], (std::pair<uint64_t, uint64_t> { 8 * 512, 16 * 512 }));
    EXPECT_EQ(backend->operations.back(), BlockOperation::Discard);
}

TEST_F(BlockDeviceTest, BlockDevice_WriteZeroesWithUnmap_ReachesBackend)
{
    start();
    auto zero_status = status();
    ASSERT_TRUE(roundtrip(
        { header(blk::request_type::write_zeroes, 0), segment(0, 4, blk::segment_flag::unmap), zero_status }));
    EXPECT_EQ(byte_at(zero_status.address), blk::status::ok);
    EXPECT_EQ(backend->operations.back(), BlockOperation::WriteZeroes);
}

TEST_F(BlockDeviceTest, BlockDevice_DiscardNotNegotiated_IsUnsupported)
{
    start(FakeBlockBackend::Mode::Immediate, false, virtio::feature_mask(blk::feature::flush));
    auto discard_status = status();
    ASSERT_TRUE(roundtrip({ header(blk::request_type::discard, 0), segment(0, 1, 0), discard_status }));
    EXPECT_EQ(byte_at(discard_status.address), blk::status::unsupported);
    EXPECT_TRUE(backend->operations.empty());
}

TEST_F(BlockDeviceTest, BlockDevice_BackendFails_CompletesWithIoError)
{
    start();
    backend->next_result = -EIO;
    auto data = buffer(512, BufferAccess::DeviceWritable);
    auto read_status = status();
    auto used = roundtrip({ header(blk::request_type::in, 0), data, read_status });
    ASSERT_TRUE(used);
    EXPECT_EQ(byte_at(read_status.address), blk::status::io_error);
    EXPECT_EQ(used->length, 1u);
    EXPECT_EQ(device->stats().requests_failed, 1u);
}

TEST_F(BlockDeviceTest, BlockDevice_ShortRead_ReportsIoErrorAndBytesReallyWritten)
{
    start();
    backend->next_result = 512;
    auto data = buffer(1024, BufferAccess::DeviceWritable);
    auto read_status = status();
    auto used = roundtrip({ header(blk::request_type::in, 0), data, read_status });
    ASSERT_TRUE(used);
    EXPECT_EQ(byte_at(read_status.address), blk::status::io_error);
    EXPECT_EQ(used->length, 513u);
}

TEST_F(BlockDeviceTest, BlockDevice_BackendRefusesSubmit_CompletesWithIoErrorAndContinues)
{
    start();
    backend->refuse_submit = true;
    auto flush_status = status();
    ASSERT_TRUE(roundtrip({ header(blk::request_type::flush, 0), flush_status }));
    EXPECT_EQ(byte_at(flush_status.address), blk::status::io_error);
    backend->refuse_submit = false;
    auto second_status = status();
    ASSERT_TRUE(roundtrip({ header(blk::request_type::flush, 0), second_status }));
    EXPECT_EQ(byte_at(second_status.address), blk::status::ok);
}
