// Boot GDT, identity page tables and the long-mode entry register state.
#include "runtime/boot/cpu_state.hpp"
#include "runtime/boot/layout.hpp"

#include <algorithm>
#include <cstring>
#include <gtest/gtest.h>

using namespace husk;

namespace {

GuestMemory make_cpu_state_memory()
{
    auto memory = GuestMemory::create(layout::ram_regions(16 << 20));
    EXPECT_TRUE(memory.has_value());
    return std::move(memory).value();
}

uint64_t read_u64(GuestMemory const& memory, uint64_t address)
{
    auto value = memory.read_obj<uint64_t>(GuestAddress(address));
    EXPECT_TRUE(value.has_value());
    return value.value_or(0);
}

constexpr uint64_t present_writable = 0x3;
constexpr uint64_t present_writable_huge = 0x83;

} // namespace

TEST(BootPageTables, Pml4AndPdpt_PointToTheNextLevel)
{
    auto memory = make_cpu_state_memory();
    ASSERT_TRUE(write_gdt_and_page_tables(memory));

    EXPECT_EQ(read_u64(memory, 0x9000), 0xa000 | present_writable);
    EXPECT_EQ(read_u64(memory, 0x9008), 0u); // only the first 512 GiB slot
    for (uint64_t gib = 0; gib < 4; ++gib)
        EXPECT_EQ(read_u64(memory, 0xa000 + gib * 8), (0xb000 + gib * 0x1000) | present_writable);
    EXPECT_EQ(read_u64(memory, 0xa000 + 4 * 8), 0u);
}

TEST(BootPageTables, PdEntries_IdentityMap4GibWith2MibPages)
{
    auto memory = make_cpu_state_memory();
    ASSERT_TRUE(write_gdt_and_page_tables(memory));

    constexpr uint64_t huge = 2 << 20;
    for (uint64_t index : { 0ull, 1ull, 511ull, 512ull, 1536ull, 2047ull }) {
        uint64_t entry = read_u64(memory, 0xb000 + index * 8); // the 4 PDs are contiguous
        EXPECT_EQ(entry, (index * huge) | present_writable_huge) << "PD entry " << index;
    }
}

TEST(BootGdt, Descriptors_MatchTheFlatBootSegments)
{
    auto memory = make_cpu_state_memory();
    ASSERT_TRUE(write_gdt_and_page_tables(memory));

    EXPECT_EQ(read_u64(memory, 0x500), 0u); // null
    EXPECT_EQ(read_u64(memory, 0x500 + 0x10), 0x00af9b000000ffffu); // 64-bit code, 4 GiB, G + L
    EXPECT_EQ(read_u64(memory, 0x500 + 0x18), 0x00cf93000000ffffu); // data, 4 GiB, G + D
    EXPECT_EQ(read_u64(memory, 0x500 + 0x20), 0x00008b0000000067u); // busy 64-bit TSS
    EXPECT_EQ(read_u64(memory, 0x500 + 0x28), 0u); // TSS upper half: base 63..32
}

TEST(BootSregs, LongMode_SegmentsControlRegistersAndTables)
{
    kvm_sregs current {};
    current.apic_base = 0xfee00900;
    current.cr0 = 0x60000010; // reset value: CD | NW | ET

    auto sregs = long_mode_sregs(current);

    EXPECT_EQ(sregs.cs.selector, 0x10);
    EXPECT_EQ(sregs.cs.l, 1);
    EXPECT_EQ(sregs.cs.db, 0);
    EXPECT_EQ(sregs.cs.type, 0xb);
    EXPECT_EQ(sregs.cs.s, 1);
    EXPECT_EQ(sregs.cs.present, 1);
    EXPECT_EQ(sregs.cs.base, 0u);
    EXPECT_EQ(sregs.cs.limit, 0xffffffffu);
    for (auto const& data : { sregs.ds, sregs.es, sregs.fs, sregs.gs, sregs.ss }) {
        EXPECT_EQ(data.selector, 0x18);
        EXPECT_EQ(data.type, 0x3);
        EXPECT_EQ(data.db, 1);
        EXPECT_EQ(data.l, 0);
    }
    EXPECT_EQ(sregs.tr.selector, 0x20);
    EXPECT_EQ(sregs.tr.type, 0xb);
    EXPECT_EQ(sregs.tr.s, 0);
    EXPECT_EQ(sregs.tr.limit, 0x67u);
    EXPECT_EQ(sregs.gdt.base, 0x500u);
    EXPECT_EQ(sregs.gdt.limit, 6 * 8 - 1);
    EXPECT_EQ(sregs.cr0, 0x80000031u); // PG | NE | ET | PE, caches enabled
    EXPECT_EQ(sregs.cr3, 0x9000u);
    EXPECT_EQ(sregs.cr4, 0x20u);
    EXPECT_EQ(sregs.efer, 0x500u); // LME | LMA
    EXPECT_EQ(sregs.apic_base, 0xfee00900u);
}

TEST(BootRegs, Entry_RipRsiRflagsAndStack)
{
    auto regs = entry_regs(GuestAddress(0x1000000));
    EXPECT_EQ(regs.rip, 0x1000000u);
    EXPECT_EQ(regs.rsi, 0x7000u);
    EXPECT_EQ(regs.rflags, 0x2u);
    EXPECT_EQ(regs.rsp, 0x8ff0u);
    EXPECT_EQ(regs.rbp, 0x8ff0u);
    EXPECT_EQ(regs.rax, 0u);
}

TEST(BootFpu, Initial_ControlWordAndMxcsr)
{
    auto fpu = initial_fpu();
    EXPECT_EQ(fpu.fcw, 0x37f);
    EXPECT_EQ(fpu.mxcsr, 0x1f80u);
    EXPECT_EQ(fpu.fsw, 0);
}

TEST(BootMsrs, Boot_ZeroedSyscallMsrsAndFastStrings)
{
    auto msrs = boot_msrs();
    auto find = [&](uint32_t index) {
        return std::find_if(msrs.begin(), msrs.end(), [&](auto& msr) { return msr.index == index; });
    };
    EXPECT_EQ(msrs.size(), 10u);
    for (uint32_t index :
        { 0x174u, 0x175u, 0x176u, 0xc0000081u, 0xc0000082u, 0xc0000083u, 0xc0000084u, 0xc0000102u, 0x10u }) {
        auto msr = find(index);
        ASSERT_NE(msr, msrs.end()) << std::hex << index;
        EXPECT_EQ(msr->data, 0u);
    }
    auto misc = find(0x1a0);
    ASSERT_NE(misc, msrs.end());
    EXPECT_EQ(misc->data, 1u);
}

TEST(BootLapic, Lint_ExtIntOnLint0NmiOnLint1OtherBitsKept)
{
    kvm_lapic_state lapic {};
    uint32_t masked = 0x10000; // reset state of the LVT entries
    std::memcpy(lapic.regs + 0x350, &masked, sizeof masked);
    std::memcpy(lapic.regs + 0x360, &masked, sizeof masked);

    configure_lapic_lint(lapic);

    uint32_t lint0 = 0;
    uint32_t lint1 = 0;
    std::memcpy(&lint0, lapic.regs + 0x350, sizeof lint0);
    std::memcpy(&lint1, lapic.regs + 0x360, sizeof lint1);
    EXPECT_EQ(lint0, 0x10700u);
    EXPECT_EQ(lint1, 0x10400u);
}
