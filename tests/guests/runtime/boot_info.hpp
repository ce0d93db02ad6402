// What the guest learns from husk-vmm's boot_params: the kernel command line, the virtio-mmio
// slots husk announces there (`virtio_mmio.device=4K@0xADDR:IRQ`, one per device, in slot order)
// and the case to run (`hostile.case=NAME`, from husk-vmm's --cmdline).
#pragma once

#include <cstddef>
#include <cstdint>

namespace guest {

struct MmioSlot {
    uint64_t base { 0 };
    uint64_t size { 0 };
    uint32_t irq { 0 };
};

inline constexpr size_t max_slots = 17;
inline constexpr size_t max_case_name = 64;

struct BootInfo {
    char const* cmdline { nullptr };
    MmioSlot slots[max_slots];
    size_t slot_count { 0 };
    char case_name[max_case_name] {};
};

// `boot_params` is the zero page address husk-vmm passed in %rsi.
BootInfo read_boot_info(uint64_t boot_params);

bool equal(char const* a, char const* b);
bool starts_with(char const* text, char const* prefix);

} // namespace guest
