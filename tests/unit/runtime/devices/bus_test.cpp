// Bus: range validation on insert, dispatch at range edges, unmapped and straddling accesses.
#include "runtime/devices/bus.hpp"

#include <array>
#include <gtest/gtest.h>
#include <vector>

using namespace husk;

namespace {
// Records every access; reads return the low byte of the offset so tests can see which offset
// reached the device.
class RecordingDevice final : public BusDevice {
public:
    struct Access {
        uint64_t offset;
        std::vector<uint8_t> data;
    };
    void read(uint64_t offset, std::span<uint8_t> data) override
    {
        for (size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<uint8_t>(offset + i);
        reads.push_back({ offset, { data.begin(), data.end() } });
    }
    void write(uint64_t offset, std::span<uint8_t const> data) override
    {
        writes.push_back({ offset, { data.begin(), data.end() } });
    }
    std::vector<Access> reads;
    std::vector<Access> writes;
};

bool error_mentions(Result<void> const& result, std::string_view word)
{
    return !result.has_value() && result.error().message.find(word) != std::string::npos;
}
} // namespace

TEST(Bus, InsertDisjointRanges_Succeeds)
{
    Bus bus;
    EXPECT_TRUE(bus.insert(std::make_shared<RecordingDevice>(), 0x3f8, 8));
    EXPECT_TRUE(bus.insert(std::make_shared<RecordingDevice>(), 0x60, 5));
    EXPECT_TRUE(bus.insert(std::make_shared<RecordingDevice>(), 0x400, 1)); // touches nothing
    EXPECT_TRUE(bus.insert(std::make_shared<RecordingDevice>(), 0x3f0, 8)); // ends where 0x3f8 starts
    EXPECT_EQ(bus.device_count(), 4u);
}

TEST(Bus, InsertZeroLength_IsRejected)
{
    Bus bus;
    auto result = bus.insert(std::make_shared<RecordingDevice>(), 0x3f8, 0);
    EXPECT_TRUE(error_mentions(result, "zero length"));
    EXPECT_EQ(bus.device_count(), 0u);
}

TEST(Bus, InsertNullDevice_IsRejected)
{
    Bus bus;
    EXPECT_TRUE(error_mentions(bus.insert(nullptr, 0x3f8, 8), "null"));
}

TEST(Bus, InsertPastEndOfAddressSpace_IsRejected)
{
    Bus bus;
    EXPECT_TRUE(error_mentions(bus.insert(std::make_shared<RecordingDevice>(), UINT64_MAX, 2), "overflows"));
    EXPECT_TRUE(error_mentions(bus.insert(std::make_shared<RecordingDevice>(), 2, UINT64_MAX), "overflows"));
}

TEST(Bus, InsertEndingExactlyAtTopOfAddressSpace_Succeeds)
{
    Bus bus;
    ASSERT_TRUE(bus.insert(std::make_shared<RecordingDevice>(), UINT64_MAX - 1, 2));
    std::array<uint8_t, 1> data {};
    EXPECT_TRUE(bus.read(UINT64_MAX, data));
    std::array<uint8_t, 2> wide {};
    EXPECT_FALSE(bus.read(UINT64_MAX, wide)); // would wrap around
}

TEST(Bus, InsertOverlapping_IsRejected)
{
    Bus bus;
    ASSERT_TRUE(bus.insert(std::make_shared<RecordingDevice>(), 0x100, 0x10));
    // Overlapping the start, the end, containing, contained, identical.
    for (auto [base, length] :
        { std::pair<uint64_t, uint64_t> { 0xf8, 0x9 }, { 0x10f, 1 }, { 0x0, 0x1000 }, { 0x104, 2 }, { 0x100, 0x10 } }) {
        auto result = bus.insert(std::make_shared<RecordingDevice>(), base, length);
        EXPECT_TRUE(error_mentions(result, "overlaps")) << "base " << base << " length " << length;
    }
    EXPECT_EQ(bus.device_count(), 1u);
}

TEST(Bus, InsertOverlappingLaterDevice_IsRejected)
{
    Bus bus;
    ASSERT_TRUE(bus.insert(std::make_shared<RecordingDevice>(), 0x200, 0x10));
    EXPECT_TRUE(error_mentions(bus.insert(std::make_shared<RecordingDevice>(), 0x1f0, 0x11), "overlaps"));
}

TEST(Bus, AccessAtFirstAndLastByte_ReachesDeviceWithOffset)
{
    Bus bus;
    auto device = std::make_shared<RecordingDevice>();
    ASSERT_TRUE(bus.insert(device, 0x3f8, 8));
    std::array<uint8_t, 1> data {};

    EXPECT_TRUE(bus.read(0x3f8, data));
    EXPECT_TRUE(bus.read(0x3ff, data));
    std::array<uint8_t const, 1> value { 0x41 };
    EXPECT_TRUE(bus.write(0x3ff, value));

    ASSERT_EQ(device->reads.size(), 2u);
    EXPECT_EQ(device->reads[0].offset, 0u);
    EXPECT_EQ(device->reads[1].offset, 7u);
    EXPECT_EQ(data[0], 7); // what the device returned for offset 7
    ASSERT_EQ(device->writes.size(), 1u);
    EXPECT_EQ(device->writes[0].offset, 7u);
    EXPECT_EQ(device->writes[0].data, std::vector<uint8_t> { 0x41 });
}

TEST(Bus, LookupAmongManyDevices_FindsTheRightOne)
{
    Bus bus;
    std::vector<std::shared_ptr<RecordingDevice>> devices;
    for (uint64_t i = 0; i < 16; ++i) {
        devices.push_back(std::make_shared<RecordingDevice>());
        ASSERT_TRUE(bus.insert(devices.back(), 0x1000 * (16 - i), 0x10)); // inserted in reverse
    }
    std::array<uint8_t const, 1> value { 1 };
    EXPECT_TRUE(bus.write(0x5008, value));
    EXPECT_EQ(devices[11]->writes.size(), 1u); // base 0x1000 * (16 - 11)
    EXPECT_EQ(devices[11]->writes[0].offset, 8u);
}

TEST(Bus, UnmappedRead_ReturnsFalseAndAllOnes)
{
    Bus bus;
    auto device = std::make_shared<RecordingDevice>();
    ASSERT_TRUE(bus.insert(device, 0x3f8, 8));
    std::array<uint8_t, 4> data { 1, 2, 3, 4 };

    EXPECT_FALSE(bus.read(0x3f7, data));
    EXPECT_EQ(data, (std::array<uint8_t, 4> { 0xff, 0xff, 0xff, 0xff }));
    EXPECT_FALSE(bus.read(0x400, data));
    EXPECT_FALSE(bus.read(0, data));
    EXPECT_TRUE(device->reads.empty());
}

TEST(Bus, UnmappedWrite_ReturnsFalse)
{
    Bus bus;
    auto device = std::make_shared<RecordingDevice>();
    ASSERT_TRUE(bus.insert(device, 0x3f8, 8));
    std::array<uint8_t const, 1> value { 1 };
    EXPECT_FALSE(bus.write(0x400, value));
    EXPECT_FALSE(bus.write(UINT64_MAX, value));
    EXPECT_TRUE(device->writes.empty());
}

TEST(Bus, AccessStraddlingDeviceEnd_IsUnmapped)
{
    Bus bus;
    auto device = std::make_shared<RecordingDevice>();
    ASSERT_TRUE(bus.insert(device, 0x3f8, 8));
    ASSERT_TRUE(bus.insert(std::make_shared<RecordingDevice>(), 0x400, 8)); // adjacent: still no merge
    std::array<uint8_t, 4> data {};
    std::array<uint8_t const, 4> value {};

    EXPECT_FALSE(bus.read(0x3fe, data));
    EXPECT_EQ(data, (std::array<uint8_t, 4> { 0xff, 0xff, 0xff, 0xff }));
    EXPECT_FALSE(bus.write(0x3fd, value));
    EXPECT_TRUE(bus.read(0x3fc, data)); // the last four bytes exactly
    EXPECT_EQ(device->reads.size(), 1u);
    EXPECT_TRUE(device->writes.empty());
}

TEST(Bus, EmptyAccess_IsNotDispatched)
{
    Bus bus;
    auto device = std::make_shared<RecordingDevice>();
    ASSERT_TRUE(bus.insert(device, 0x3f8, 8));
    EXPECT_FALSE(bus.read(0x3f8, std::span<uint8_t> {}));
    EXPECT_FALSE(bus.write(0x3f8, std::span<uint8_t const> {}));
    EXPECT_TRUE(device->reads.empty());
}
