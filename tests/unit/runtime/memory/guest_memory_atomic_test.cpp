// GuestMemory::load/store: atomic guest words keep every bounds check and add alignment, so a
// hostile ring address fails cleanly instead of becoming an unaligned atomic access.
#include "runtime/memory/guest_memory.hpp"

#include <gtest/gtest.h>
#include <string>

using namespace husk;

namespace {
GuestMemory two_regions()
{
    // [0, 64 KiB) and [1 MiB, 1 MiB + 64 KiB), with a gap between them.
    auto memory = GuestMemory::create({ { GuestAddress(0), 0x10000 }, { GuestAddress(0x100000), 0x10000 } });
    EXPECT_TRUE(memory.has_value());
    return std::move(memory).value();
}

bool mentions(Result<void> const& result, std::string const& text)
{
    return !result && result.error().message.find(text) != std::string::npos;
}
} // namespace

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
