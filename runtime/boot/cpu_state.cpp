// Boot GDT, identity page tables and the register values for the 64-bit Linux entry.
#include "runtime/boot/cpu_state.hpp"

#include "runtime/boot/layout.hpp"

#include <array>
#include <cstring>

namespace husk {

using namespace x86;

namespace {

    // Descriptor access bytes and the G/DB/L flag nibble (bits 52..55 of a descriptor).
    constexpr uint8_t access_code = 0x9b; // present, DPL 0, code, execute/read, accessed
    constexpr uint8_t access_data = 0x93; // present, DPL 0, data, read/write, accessed
    constexpr uint8_t access_tss = 0x8b; // present, DPL 0, system, 64-bit TSS (busy), as TR needs
    constexpr uint8_t flag_granularity = 0x8;
    constexpr uint8_t flag_default_big = 0x4;
    constexpr uint8_t flag_long = 0x2;
    constexpr uint32_t flat_limit = 0xfffff; // with G: 4 GiB
    constexpr uint32_t tss_limit = 0x67; // the minimal 104-byte 64-bit TSS

    struct Descriptor {
        uint8_t access { 0 };
        uint8_t flags { 0 };
        uint32_t base { 0 };
        uint32_t limit { 0 };
    };

    constexpr Descriptor code_descriptor { access_code, flag_granularity | flag_long, 0, flat_limit };
    constexpr Descriptor data_descriptor { access_data, flag_granularity | flag_default_big, 0, flat_limit };
    constexpr Descriptor tss_descriptor { access_tss, 0, 0, tss_limit };

    constexpr uint64_t encode(Descriptor const& d)
    {
        return (uint64_t { d.limit } & 0xffff) | ((uint64_t { d.base } & 0xff'ffff) << 16)
            | (uint64_t { d.access } << 40) | ((uint64_t { d.limit } >> 16 & 0xf) << 48) | (uint64_t { d.flags } << 52)
            | ((uint64_t { d.base } >> 24) << 56);
    }

    // The hidden part of a segment register as KVM wants it: what the CPU would load from `d`.
    kvm_segment segment(Descriptor const& d, uint16_t selector)
    {
        kvm_segment s {};
        s.base = d.base;
        bool granular = d.flags & flag_granularity;
        s.limit = granular ? (d.limit << 12) | 0xfff : d.limit; // KVM takes the limit in bytes
        s.selector = selector;
        s.type = d.access & 0xf;
        s.present = (d.access >> 7) & 1;
        s.dpl = (d.access >> 5) & 3;
        s.s = (d.access >> 4) & 1;
        s.db = (d.flags & flag_default_big) ? 1 : 0;
        s.l = (d.flags & flag_long) ? 1 : 0;
        s.g = granular ? 1 : 0;
        return s;
    }

    constexpr uint64_t entries_per_table = 512;

} // namespace

Result<void> write_gdt_and_page_tables(GuestMemory& memory)
{
    std::array<uint64_t, boot_gdt::entry_count> gdt {};
    gdt[boot_gdt::code_selector / 8] = encode(code_descriptor);
    gdt[boot_gdt::data_selector / 8] = encode(data_descriptor);
    gdt[boot_gdt::tss_selector / 8] = encode(tss_descriptor); // the next slot: base bits 63..32 = 0
    TRY_CONTEXT(memory.write_obj(layout::gdt_address, gdt), "cannot write the boot GDT");

    std::array<uint64_t, entries_per_table> pml4 {};
    pml4[0] = layout::pdpt_address.value() | pte_present | pte_writable;
    TRY_CONTEXT(memory.write_obj(layout::pml4_address, pml4), "cannot write the PML4");

    std::array<uint64_t, entries_per_table> pdpt {};
    for (uint64_t gib = 0; gib < layout::pd_count; ++gib)
        pdpt[gib] = (layout::pd_address.value() + gib * layout::page_size) | pte_present | pte_writable;
    TRY_CONTEXT(memory.write_obj(layout::pdpt_address, pdpt), "cannot write the PDPT");

    for (uint64_t gib = 0; gib < layout::pd_count; ++gib) {
        std::array<uint64_t, entries_per_table> pd {};
        for (uint64_t i = 0; i < entries_per_table; ++i)
            pd[i] = ((gib * entries_per_table + i) * huge_page_size) | pte_present | pte_writable | pte_page_size;
        TRY_CONTEXT(memory.write_obj(layout::pd_address.unchecked_add(gib * layout::page_size), pd),
            "cannot write a page directory");
    }
    return {};
}

kvm_sregs long_mode_sregs(kvm_sregs const& current)
{
    kvm_sregs sregs = current;
    auto code = segment(code_descriptor, boot_gdt::code_selector);
    auto data = segment(data_descriptor, boot_gdt::data_selector);
    sregs.cs = code;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.tr = segment(tss_descriptor, boot_gdt::tss_selector);

    sregs.gdt.base = layout::gdt_address.value();
    sregs.gdt.limit = boot_gdt::entry_count * sizeof(uint64_t) - 1;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;

    // Set outright rather than OR-ed in: the reset value has CD and NW, which would leave the
    // guest running with caches disabled.
    sregs.cr0 = cr0_pe | cr0_et | cr0_ne | cr0_pg;
    sregs.cr3 = layout::pml4_address.value();
    sregs.cr4 = cr4_pae;
    sregs.efer = efer_lme | efer_lma;
    return sregs;
}

kvm_regs entry_regs(GuestAddress entry)
{
    kvm_regs regs {};
    regs.rip = entry.value();
    regs.rsi = layout::zero_page_address.value();
    regs.rflags = rflags_reserved_1;
    regs.rsp = layout::boot_stack_pointer.value();
    regs.rbp = layout::boot_stack_pointer.value();
    return regs;
}

kvm_fpu initial_fpu()
{
    kvm_fpu fpu {};
    fpu.fcw = fpu_control_word_default;
    fpu.mxcsr = mxcsr_default;
    return fpu;
}

std::vector<kvm_msr_entry> boot_msrs()
{
    auto entry = [](uint32_t index, uint64_t data) {
        kvm_msr_entry msr {};
        msr.index = index;
        msr.data = data;
        return msr;
    };
    // Zero the syscall/sysenter entry points so nothing stale from a previous user of the vCPU
    // (or a restored template) survives; the kernel programs them in syscall_init().
    return {
        entry(msr_ia32_sysenter_cs, 0),
        entry(msr_ia32_sysenter_esp, 0),
        entry(msr_ia32_sysenter_eip, 0),
        entry(msr_star, 0),
        entry(msr_cstar, 0),
        entry(msr_kernel_gs_base, 0),
        entry(msr_syscall_mask, 0),
        entry(msr_lstar, 0),
        entry(msr_ia32_tsc, 0),
        // Fast string operations are on at reset on real CPUs; Linux warns and runs slower without.
        entry(msr_ia32_misc_enable, misc_enable_fast_string),
    };
}

void configure_lapic_lint(kvm_lapic_state& lapic)
{
    auto set_delivery_mode = [&](uint32_t offset, uint32_t mode) {
        uint32_t value = 0;
        std::memcpy(&value, lapic.regs + offset, sizeof value);
        value = (value & ~apic_delivery_mode_mask) | (mode << apic_delivery_mode_shift);
        std::memcpy(lapic.regs + offset, &value, sizeof value);
    };
    set_delivery_mode(apic_lvt_lint0, apic_delivery_extint);
    set_delivery_mode(apic_lvt_lint1, apic_delivery_nmi);
}

} // namespace husk
