// The vCPU state the Linux 64-bit boot protocol expects at the kernel's entry: long mode with
// paging on, a flat GDT, the first 4 GiB identity mapped, %rsi = zero page, interrupts off.
// Plain structs only: the VMM applies them with KVM_SET_SREGS/REGS/FPU/MSRS/LAPIC.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/memory/guest_memory.hpp"

#include <cstdint>
#include <linux/kvm.h>
#include <vector>

namespace husk {

namespace boot_gdt {
    // Selectors as the boot protocol names them: __BOOT_CS = 0x10, __BOOT_DS = 0x18 (entry 1 is
    // unused, as in the kernel's own boot GDT). The TSS takes two slots in long mode.
    inline constexpr uint16_t code_selector = 0x10;
    inline constexpr uint16_t data_selector = 0x18;
    inline constexpr uint16_t tss_selector = 0x20;
    inline constexpr unsigned entry_count = 6;
} // namespace boot_gdt

namespace x86 {
    inline constexpr uint64_t cr0_pe = 1ull << 0; // protected mode
    inline constexpr uint64_t cr0_et = 1ull << 4; // extension type: always 1 on modern CPUs
    inline constexpr uint64_t cr0_ne = 1ull << 5; // native x87 error reporting, what Linux uses
    inline constexpr uint64_t cr0_pg = 1ull << 31; // paging
    inline constexpr uint64_t cr4_pae = 1ull << 5;
    inline constexpr uint64_t efer_lme = 1ull << 8;
    inline constexpr uint64_t efer_lma = 1ull << 10;
    inline constexpr uint64_t rflags_reserved_1 = 1ull << 1; // bit 1 always reads as 1; IF stays 0
    inline constexpr uint64_t pte_present = 1ull << 0;
    inline constexpr uint64_t pte_writable = 1ull << 1;
    inline constexpr uint64_t pte_page_size = 1ull << 7; // in a PD entry: maps a 2 MiB page
    inline constexpr uint64_t huge_page_size = 2ull << 20;
    inline constexpr uint16_t fpu_control_word_default = 0x37f; // FINIT state: all exceptions masked
    inline constexpr uint32_t mxcsr_default = 0x1f80; // reset state: all exceptions masked

    inline constexpr uint32_t msr_ia32_tsc = 0x10;
    inline constexpr uint32_t msr_ia32_sysenter_cs = 0x174;
    inline constexpr uint32_t msr_ia32_sysenter_esp = 0x175;
    inline constexpr uint32_t msr_ia32_sysenter_eip = 0x176;
    inline constexpr uint32_t msr_ia32_misc_enable = 0x1a0;
    inline constexpr uint64_t misc_enable_fast_string = 1ull << 0;
    inline constexpr uint32_t msr_star = 0xc000'0081;
    inline constexpr uint32_t msr_lstar = 0xc000'0082;
    inline constexpr uint32_t msr_cstar = 0xc000'0083;
    inline constexpr uint32_t msr_syscall_mask = 0xc000'0084;
    inline constexpr uint32_t msr_kernel_gs_base = 0xc000'0102;

    // Local APIC register offsets and LVT delivery modes (Intel SDM vol. 3, 11.5.1).
    inline constexpr uint32_t apic_lvt_lint0 = 0x350;
    inline constexpr uint32_t apic_lvt_lint1 = 0x360;
    inline constexpr uint32_t apic_delivery_mode_shift = 8;
    inline constexpr uint32_t apic_delivery_mode_mask = 0x7u << apic_delivery_mode_shift;
    inline constexpr uint32_t apic_delivery_nmi = 0x4;
    inline constexpr uint32_t apic_delivery_extint = 0x7;
} // namespace x86

// Writes the boot GDT at layout::gdt_address and page tables identity-mapping [0, 4 GiB) with
// 2 MiB pages: PML4[0] -> PDPT, PDPT[0..3] -> the four PDs at layout::pd_address.
Result<void> write_gdt_and_page_tables(GuestMemory& memory);

// `current` with the long-mode fields replaced: segments from the boot GDT, GDTR, an empty IDT
// (an early exception then shuts the VM down cleanly instead of running garbage), CR0, CR3, CR4,
// EFER. APIC base, CR8 and the interrupt bitmap are kept.
kvm_sregs long_mode_sregs(kvm_sregs const& current);

// rip = entry, rsi = zero page, rflags with interrupts off, rsp/rbp = layout::boot_stack_pointer.
kvm_regs entry_regs(GuestAddress entry);

kvm_fpu initial_fpu();

// The MSRs Firecracker resets for boot: SYSENTER_*, STAR, CSTAR, KERNEL_GS_BASE, SYSCALL_MASK,
// LSTAR and TSC to 0, MISC_ENABLE with fast strings on.
std::vector<kvm_msr_entry> boot_msrs();

// LINT0 delivers ExtINT (the PIC in virtual wire mode), LINT1 delivers NMI; only the delivery
// mode bits change, as the MP table's local interrupt entries describe.
void configure_lapic_lint(kvm_lapic_state& lapic);

} // namespace husk
