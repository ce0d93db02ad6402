// Where virtio-mmio slots sit and how they are announced to Linux.
#include "runtime/boot/layout.hpp"
#include "runtime/vmm/virtio_mmio_slot.hpp"

#include <gtest/gtest.h>
#include <set>

using namespace husk;

TEST(VirtioMmioPlacement, Slots_AreConsecutivePagesFromTheBaseWithDistinctPins)
{
    std::set<uint32_t> pins;
    for (size_t index = 0; index < layout::virtio_mmio_max_slots; ++index) {
        auto placement = virtio_mmio_placement(index);
        EXPECT_EQ(placement.base, layout::virtio_mmio_base.value() + index * layout::virtio_mmio_slot_size);
        EXPECT_TRUE(pins.insert(placement.irq).second) << "pin " << placement.irq << " used twice";
        // Inside the IO-APIC's 24 pins, never a legacy one the guest may claim.
        EXPECT_LT(placement.irq, 24u);
        for (uint32_t legacy : { 0u, 1u, 2u, 3u, 4u, 8u, 12u })
            EXPECT_NE(placement.irq, legacy);
    }
    auto last = virtio_mmio_placement(layout::virtio_mmio_max_slots - 1);
    EXPECT_LE(last.base + layout::virtio_mmio_slot_size, layout::ioapic_address.value());
}

TEST(VirtioMmioKernelArgument, Placement_IsWrittenAsLinuxParsesIt)
{
    EXPECT_EQ(virtio_mmio_kernel_argument({ 0xd000'0000, 5 }), "virtio_mmio.device=4K@0xd0000000:5");
    EXPECT_EQ(virtio_mmio_kernel_argument({ 0xd000'3000, 23 }), "virtio_mmio.device=4K@0xd0003000:23");
}
