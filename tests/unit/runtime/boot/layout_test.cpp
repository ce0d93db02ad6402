// RAM regions around the 32-bit MMIO hole.
#include "runtime/boot/layout.hpp"

#include <gtest/gtest.h>

using namespace husk;

namespace {
constexpr uint64_t ram_mib = 1ull << 20;
constexpr uint64_t ram_gib = 1ull << 30;
} // namespace

TEST(BootLayout, SmallRam_IsOneRegionFromZero)
{
    auto regions = layout::ram_regions(128 * ram_mib);
    ASSERT_EQ(regions.size(), 1u);
    EXPECT_EQ(regions[0].start, GuestAddress(0));
    EXPECT_EQ(regions[0].size, 128 * ram_mib);
}

TEST(BootLayout, LargeRam_SkipsTheMmioHole)
{
    auto regions = layout::ram_regions(4 * ram_gib);
    ASSERT_EQ(regions.size(), 2u);
    EXPECT_EQ(regions[0].start, GuestAddress(0));
    EXPECT_EQ(regions[0].size, 3 * ram_gib);
    EXPECT_EQ(regions[1].start, GuestAddress(4 * ram_gib));
    EXPECT_EQ(regions[1].size, 1 * ram_gib);
}

TEST(BootLayout, ExactlyThreeGib_IsOneRegion)
{
    EXPECT_EQ(layout::ram_regions(3 * ram_gib).size(), 1u);
    EXPECT_TRUE(layout::ram_regions(0).empty());
}

TEST(BootLayout, BootStructures_DoNotOverlap)
{
    // GDT < zero page < stack page < PML4 < PDPT < 4 PDs < cmdline < EBDA < 1 MiB.
    EXPECT_LT(layout::gdt_address.value() + 6 * 8, layout::zero_page_address.value());
    EXPECT_LT(layout::zero_page_address.value() + layout::page_size, layout::boot_stack_pointer.value());
    EXPECT_LE(layout::boot_stack_pointer.value(), layout::pml4_address.value());
    EXPECT_LE(layout::pd_address.value() + layout::pd_count * layout::page_size, layout::cmdline_address.value());
    EXPECT_LE(layout::cmdline_address.value() + layout::cmdline_max_size, layout::ebda_start.value());
    EXPECT_LT(layout::virtio_mmio_base, layout::ioapic_address);
    EXPECT_LE(layout::mmio_hole_start, layout::virtio_mmio_base);
}
