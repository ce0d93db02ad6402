// Guest-physical memory layout of a husk VM: where the boot structures, the kernel, the MMIO
// windows and RAM go. One table so the loader, the VMM and the device code cannot disagree.
#pragma once

#include "runtime/memory/guest_memory.hpp"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <vector>

namespace husk::layout {

inline constexpr uint64_t page_size = 0x1000;

// Low memory, below the 640 KiB of conventional RAM: boot structures the kernel reads once.
inline constexpr GuestAddress gdt_address { 0x500 };
inline constexpr GuestAddress zero_page_address { 0x7000 }; // struct boot_params, %rsi at entry
// Initial stack: the top of the free page between the zero page and the page tables; the kernel
// switches to its own stack within its first instructions.
inline constexpr GuestAddress boot_stack_pointer { 0x8ff0 };
inline constexpr GuestAddress pml4_address { 0x9000 };
inline constexpr GuestAddress pdpt_address { 0xa000 };
inline constexpr GuestAddress pd_address { 0xb000 }; // 4 pages: one page directory per GiB
inline constexpr uint64_t pd_count = 4;
inline constexpr GuestAddress cmdline_address { 0x20000 };
inline constexpr uint64_t cmdline_max_size = 4096; // including the terminating NUL
// Linux/x86 keeps at most COMMAND_LINE_SIZE - 1 = 2047 bytes of the command line (6.1,
// arch/x86/include/asm/setup.h) and silently drops the rest, so husk refuses longer lines.
inline constexpr size_t linux_cmdline_max_length = 2047;

// Linux scans the last KiB of base memory (639 KiB) for the MP floating pointer when the BIOS
// data area names no EBDA, which is our case: nothing writes the BDA.
inline constexpr GuestAddress ebda_start { 0x9fc00 };
inline constexpr GuestAddress high_memory_start { 0x100000 }; // 1 MiB: kernels load here or above

// The 32-bit MMIO hole: device windows live in [3 GiB, 4 GiB); RAM beyond 3 GiB moves above 4 GiB.
inline constexpr GuestAddress mmio_hole_start { 0xc000'0000 };
inline constexpr GuestAddress mmio_hole_end { 1ull << 32 };
inline constexpr GuestAddress virtio_mmio_base { 0xd000'0000 };
inline constexpr uint64_t virtio_mmio_slot_size = 0x1000;
// IO-APIC pins for virtio-mmio devices, one per device, in slot order. The legacy pins the guest
// may still claim are left out: 0 (PIT), 1 (i8042 keyboard), 2 (cascade), 3 and 4 (COM2/COM1),
// 8 (RTC) and 12 (i8042 aux).
inline constexpr uint32_t virtio_mmio_irqs[] = { 5, 6, 7, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23 };
inline constexpr size_t virtio_mmio_max_slots = std::size(virtio_mmio_irqs);
inline constexpr GuestAddress ioapic_address { 0xfec0'0000 };
inline constexpr GuestAddress lapic_address { 0xfee0'0000 };

// RAM regions for a VM with `ram_bytes` of memory: [0, min(ram, 3 GiB)) and, when more is asked
// for, the rest from 4 GiB so the MMIO hole stays free. `ram_bytes` should be page aligned
// (GuestMemory::create rejects unaligned regions); 0 yields no region.
std::vector<GuestRegionSpec> ram_regions(uint64_t ram_bytes);

} // namespace husk::layout
