// GuestMemory bounds checks: overflow, region crossing, zero length, last byte; and the atomic
// load/store of ring words, which add an alignment check.
#include "runtime/memory/guest_memory.hpp"

#include <array>
#include <cstring>
#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace husk;

namespace {
GuestMemory two_regions()
{
    // [0, 64 KiB) and [1 MiB, 1 MiB + 64 KiB): a gap between them, like RAM around a hole.
    auto memory = GuestMemory::create({ { GuestAddress(0), 0x10000 }, { GuestAddress(0x100000), 0x10000 } });
    EXPECT_TRUE(memory.has_value());
    return std::move(memory).value();
}

bool mentions(Result<void> const& result, std::string const& text)
{
    return !result && result.error().message.find(text) != std::string::npos;
}
} // namespace

TEST(GuestMemory, WriteThenRead_RoundTrips)
{
    auto memory = two_regions();
    ASSERT_TRUE(memory.write_obj(GuestAddress(0x100010), uint64_t { 0x1122334455667788 }));
    auto value = memory.read_obj<uint64_t>(GuestAddress(0x100010));
    ASSERT_TRUE(value);
    EXPECT_EQ(*value, 0x1122334455667788u);
}

TEST(GuestMemory, LastByteOfRegion_IsAccessible)
{
    auto memory = two_regions();
    EXPECT_TRUE(memory.write_obj(GuestAddress(0xffff), uint8_t { 7 }));
    EXPECT_EQ(*memory.read_obj<uint8_t>(GuestAddress(0xffff)), 7);
}

TEST(GuestMemory, ObjectStraddlingRegionEnd_IsRejected)
{
    auto memory = two_regions();
    auto result = memory.write_obj(GuestAddress(0xfffe), uint32_t { 1 });
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("crosses"), std::string::npos);
}

TEST(GuestMemory, AddressInGap_IsRejected)
{
    auto memory = two_regions();
    EXPECT_FALSE(memory.read_obj<uint8_t>(GuestAddress(0x20000)));
    EXPECT_FALSE(memory.contains(GuestAddress(0x10000), 1));
}

TEST(GuestMemory, RangeOverflowingAddressSpace_IsRejected)
{
    auto memory = two_regions();
    std::array<uint8_t, 16> buffer {};
    auto result = memory.read(GuestAddress(UINT64_MAX - 4), buffer);
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("overflows"), std::string::npos);
}

TEST(GuestMemory, ZeroLength_IsValidInsideAndAtEnd)
{
    auto memory = two_regions();
    EXPECT_TRUE(memory.contains(GuestAddress(0x100), 0));
    EXPECT_TRUE(memory.contains(GuestAddress(0x10000), 0));
    EXPECT_TRUE(memory.read(GuestAddress(0x10000), std::span<uint8_t> {}));
    EXPECT_FALSE(memory.contains(GuestAddress(0x30000), 0));
}

TEST(GuestMemory, OverlappingRegions_AreRejected)
{
    auto memory = GuestMemory::create({ { GuestAddress(0), 0x2000 }, { GuestAddress(0x1000), 0x1000 } });
    ASSERT_FALSE(memory);
    EXPECT_NE(memory.error().message.find("overlap"), std::string::npos);
}

TEST(GuestMemory, UnalignedOrEmptyRegion_IsRejected)
{
    EXPECT_FALSE(GuestMemory::create({ { GuestAddress(0x10), 0x1000 } }));
    EXPECT_FALSE(GuestMemory::create({ { GuestAddress(0), 0 } }));
    EXPECT_FALSE(GuestMemory::create({}));
}

TEST(GuestMemory, Fill_ChecksBounds)
{
    auto memory = two_regions();
    EXPECT_TRUE(memory.fill(GuestAddress(0x100000), 0xab, 0x10000));
    EXPECT_EQ(*memory.read_obj<uint8_t>(GuestAddress(0x10ffff)), 0xab);
    EXPECT_FALSE(memory.fill(GuestAddress(0x100000), 0xab, 0x10001));
}

TEST(GuestMemory, Zero_ClearsExactlyTheRange_WholePagesAndPartialEnds)
{
    auto memory = two_regions();
    ASSERT_TRUE(memory.fill(GuestAddress(0x100000), 0xab, 0x10000));
    // From mid-page to mid-page: a partial first page, three whole pages, a partial last page.
    constexpr uint64_t start = 0x100800, size = 0x3a00;

    ASSERT_TRUE(memory.zero(GuestAddress(start), size));

    std::vector<uint8_t> bytes(0x10000);
    ASSERT_TRUE(memory.read(GuestAddress(0x100000), bytes));
    for (uint64_t offset = 0; offset < bytes.size(); ++offset) {
        bool inside = offset >= start - 0x100000 && offset < start - 0x100000 + size;
        ASSERT_EQ(bytes[offset], inside ? 0 : 0xab) << "offset " << offset;
    }
    // The replaced pages are ordinary guest memory again.
    ASSERT_TRUE(memory.write_obj(GuestAddress(0x101000), uint32_t { 0x5a5a5a5a }));
    EXPECT_EQ(*memory.read_obj<uint32_t>(GuestAddress(0x101000)), 0x5a5a5a5au);
}

TEST(GuestMemory, Zero_WithinOnePage_AndOutOfBounds)
{
    auto memory = two_regions();
    ASSERT_TRUE(memory.fill(GuestAddress(0), 0xcd, 0x2000));

    ASSERT_TRUE(memory.zero(GuestAddress(0x10), 0x20));

    EXPECT_EQ(*memory.read_obj<uint8_t>(GuestAddress(0xf)), 0xcd);
    EXPECT_EQ(*memory.read_obj<uint8_t>(GuestAddress(0x10)), 0);
    EXPECT_EQ(*memory.read_obj<uint8_t>(GuestAddress(0x2f)), 0);
    EXPECT_EQ(*memory.read_obj<uint8_t>(GuestAddress(0x30)), 0xcd);
    EXPECT_FALSE(memory.zero(GuestAddress(0x100000), 0x10001));
    EXPECT_FALSE(memory.zero(GuestAddress(0x20000), 1));
}

TEST(GuestMemory, IoVector_InsideRegion_DescribesTheSameBytes)
{
    auto memory = two_regions();
    ASSERT_TRUE(memory.write_obj(GuestAddress(0x100020), uint32_t { 0xcafef00d }));
    auto vector = memory.io_vector(GuestAddress(0x100020), 4);
    ASSERT_TRUE(vector);
    EXPECT_EQ(vector->iov_len, 4u);
    uint32_t seen = 0;
    std::memcpy(&seen, vector->iov_base, sizeof seen);
    EXPECT_EQ(seen, 0xcafef00du);
}

TEST(GuestMemory, IoVector_CrossingRegionOrOverflowing_IsRejected)
{
    auto memory = two_regions();
    EXPECT_FALSE(memory.io_vector(GuestAddress(0xfff0), 0x20));
    EXPECT_FALSE(memory.io_vector(GuestAddress(0x20000), 1));
    EXPECT_FALSE(memory.io_vector(GuestAddress(~uint64_t { 0 } - 4), 16));
}

// --- load/store: atomic guest words keep every bounds check and add alignment, so a hostile
// ring address fails cleanly instead of becoming an unaligned atomic access.

TEST(GuestMemoryAtomic, StoreThenLoad_RoundTripsBothWidths)
{
    auto memory = two_regions();
    ASSERT_TRUE(memory.store<uint16_t>(GuestAddress(0x100002), 0xbeef, std::memory_order_release));
    ASSERT_TRUE(memory.store<uint32_t>(GuestAddress(0x100004), 0x12345678, std::memory_order_relaxed));

    auto half = memory.load<uint16_t>(GuestAddress(0x100002), std::memory_order_acquire);
    auto word = memory.load<uint32_t>(GuestAddress(0x100004), std::memory_order_seq_cst);

    ASSERT_TRUE(half);
    ASSERT_TRUE(word);
    EXPECT_EQ(*half, 0xbeef);
    EXPECT_EQ(*word, 0x12345678u);
}

TEST(GuestMemoryAtomic, PlainWrite_IsSeenByAtomicLoad)
{
    auto memory = two_regions();
    ASSERT_TRUE(memory.write_obj(GuestAddress(0x40), uint16_t { 7 }));
    EXPECT_EQ(*memory.load<uint16_t>(GuestAddress(0x40), std::memory_order_acquire), 7);
}

TEST(GuestMemoryAtomic, MisalignedAddress_IsRejectedWithoutAccess)
{
    auto memory = two_regions();
    ASSERT_TRUE(memory.write_obj(GuestAddress(0x100), uint64_t { 0 }));

    auto odd = memory.store<uint16_t>(GuestAddress(0x101), 1, std::memory_order_release);
    auto half_aligned = memory.load<uint32_t>(GuestAddress(0x102), std::memory_order_acquire);

    EXPECT_TRUE(mentions(odd, "2-byte aligned"));
    ASSERT_FALSE(half_aligned);
    EXPECT_NE(half_aligned.error().message.find("4-byte aligned"), std::string::npos);
    EXPECT_EQ(*memory.read_obj<uint64_t>(GuestAddress(0x100)), 0u); // nothing was written
}

TEST(GuestMemoryAtomic, AddressOutsideMemory_IsRejected)
{
    auto memory = two_regions();
    EXPECT_FALSE(memory.load<uint16_t>(GuestAddress(0x10000), std::memory_order_acquire)); // the gap
    EXPECT_FALSE(memory.store<uint32_t>(GuestAddress(0x110000), 1, std::memory_order_release)); // past the end
    EXPECT_FALSE(memory.load<uint32_t>(GuestAddress(UINT64_MAX - 3), std::memory_order_relaxed)); // wraps
}

TEST(GuestMemoryAtomic, LastWordOfRegion_IsAccessible)
{
    auto memory = two_regions();
    ASSERT_TRUE(memory.store<uint32_t>(GuestAddress(0xfffc), 9, std::memory_order_release));
    EXPECT_EQ(*memory.load<uint32_t>(GuestAddress(0xfffc), std::memory_order_acquire), 9u);
}

TEST(GuestMemoryAtomic, OrderingInvalidForTheOperation_IsRejected)
{
    auto memory = two_regions();
    EXPECT_FALSE(memory.load<uint16_t>(GuestAddress(0), std::memory_order_release));
    EXPECT_FALSE(memory.load<uint16_t>(GuestAddress(0), std::memory_order_acq_rel));
    EXPECT_TRUE(mentions(memory.store<uint16_t>(GuestAddress(0), 1, std::memory_order_acquire), "load ordering"));
    EXPECT_FALSE(memory.store<uint16_t>(GuestAddress(0), 1, std::memory_order_consume));
    EXPECT_EQ(*memory.read_obj<uint16_t>(GuestAddress(0)), 0);
}
