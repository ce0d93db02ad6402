// CPUID normalisation for one vCPU out of a KVM_GET_SUPPORTED_CPUID-like table.
#include "runtime/boot/cpuid.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <vector>

using namespace husk;

namespace {

kvm_cpuid_entry2 entry(uint32_t function, uint32_t index, uint32_t eax, uint32_t ebx, uint32_t ecx, uint32_t edx)
{
    kvm_cpuid_entry2 e {};
    e.function = function;
    e.index = index;
    e.eax = eax;
    e.ebx = ebx;
    e.ecx = ecx;
    e.edx = edx;
    if (function == 0x4 || function == 0xb)
        e.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
    return e;
}

// A host with 16 threads: APIC id 7 in leaf 1, MONITOR and PDCM set, a 3-level cache, host
// topology leaves and the KVM signature leaf.
std::vector<kvm_cpuid_entry2> host_table()
{
    return {
        entry(0x0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69),
        entry(0x1, 0, 0x000906ea, 0x07100800, (1u << 3) | (1u << 15) | (1u << 21), 0x178bfbff & ~(1u << 28)),
        entry(0x4, 0, (7u << 26) | (1u << 14) | (1u << 5) | 1, 0x01c0003f, 0x3f, 0), // L1d
        entry(0x4, 1, (7u << 26) | (1u << 14) | (2u << 5) | 3, 0x01c0003f, 0x3ff, 0), // L2
        entry(0x4, 2, (7u << 26) | (15u << 14) | (3u << 5) | 3, 0x03c0003f, 0x3fff, 0x6), // L3
        entry(0x4, 3, 0, 0, 0, 0),
        entry(0x6, 0, 0x77, 0x2, 0x9, 0),
        entry(0xb, 0, 1, 2, 0x100, 7),
        entry(0xb, 1, 4, 16, 0x201, 7),
        entry(0x4000'0000, 0, 0x4000'0001, 0x4b4d564b, 0x564b4d56, 0x4d),
        entry(0x8000'0008, 0, 0x3030, 0, 0xf00f, 0),
    };
}

kvm_cpuid_entry2 const* find(std::vector<kvm_cpuid_entry2> const& table, uint32_t function, uint32_t index = 0)
{
    auto it = std::find_if(
        table.begin(), table.end(), [&](auto const& e) { return e.function == function && e.index == index; });
    return it == table.end() ? nullptr : &*it;
}

} // namespace

TEST(BootCpuid, Leaf1_ApicIdLogicalCountHttAndHypervisor)
{
    auto host = host_table();
    auto table = cpuid_for_vcpu(host, 1, 2);

    auto const* leaf1 = find(table, 0x1);
    ASSERT_NE(leaf1, nullptr);
    EXPECT_EQ(leaf1->ebx >> 24, 1u); // APIC id = vCPU index
    EXPECT_EQ((leaf1->ebx >> 16) & 0xff, 2u); // logical processors in the package
    EXPECT_EQ(leaf1->ebx & 0xffff, 0x0800u); // CLFLUSH size and brand index kept
    EXPECT_NE(leaf1->edx & (1u << 28), 0u); // HTT
    EXPECT_NE(leaf1->ecx & (1u << 31), 0u); // hypervisor
    EXPECT_NE(leaf1->ecx & (1u << 24), 0u); // TSC deadline
    EXPECT_NE(leaf1->ecx & (1u << 21), 0u); // x2APIC kept
    EXPECT_EQ(leaf1->ecx & (1u << 3), 0u); // MONITOR cleared
    EXPECT_EQ(leaf1->ecx & (1u << 15), 0u); // PDCM cleared
}

TEST(BootCpuid, SingleVcpu_NoHtt)
{
    auto host = host_table();
    auto table = cpuid_for_vcpu(host, 0, 1);
    auto const* leaf1 = find(table, 0x1);
    ASSERT_NE(leaf1, nullptr);
    EXPECT_EQ(leaf1->edx & (1u << 28), 0u);
    EXPECT_EQ(leaf1->ebx >> 24, 0u);
}

TEST(BootCpuid, ExtendedTopology_Vcpu1Of2)
{
    auto host = host_table();
    auto table = cpuid_for_vcpu(host, 1, 2);

    EXPECT_EQ(std::count_if(table.begin(), table.end(), [](auto& e) { return e.function == 0xb; }), 3);
    auto const* smt = find(table, 0xb, 0);
    auto const* core = find(table, 0xb, 1);
    auto const* end = find(table, 0xb, 2);
    ASSERT_TRUE(smt && core && end);
    EXPECT_EQ(smt->eax, 0u);
    EXPECT_EQ(smt->ebx, 1u);
    EXPECT_EQ(smt->ecx, 0x100u); // level type SMT, subleaf 0
    EXPECT_EQ(smt->edx, 1u); // x2APIC id
    EXPECT_EQ(core->eax, 1u); // one APIC id bit for 2 cores
    EXPECT_EQ(core->ebx, 2u);
    EXPECT_EQ(core->ecx, 0x201u); // level type core, subleaf 1
    EXPECT_EQ(core->edx, 1u);
    EXPECT_EQ((end->ecx >> 8) & 0xff, 0u);
    EXPECT_EQ(end->edx, 1u);
    EXPECT_NE(smt->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0u);
    EXPECT_EQ(find(table, 0x1f), nullptr); // not invented when the host table lacks it
}

TEST(BootCpuid, CacheLeaf_CoresAndSharingMatchVcpuCount)
{
    auto host = host_table();
    auto table = cpuid_for_vcpu(host, 1, 4);

    auto const* l1 = find(table, 0x4, 0);
    auto const* l3 = find(table, 0x4, 2);
    auto const* terminator = find(table, 0x4, 3);
    ASSERT_TRUE(l1 && l3 && terminator);
    EXPECT_EQ(l1->eax >> 26, 3u); // 4 cores
    EXPECT_EQ((l1->eax >> 14) & 0xfff, 0u); // private to one thread
    EXPECT_EQ(l1->eax & 0x3fff, (1u << 5) | 1); // level and type kept
    EXPECT_EQ(l3->eax >> 26, 3u);
    EXPECT_EQ((l3->eax >> 14) & 0xfff, 3u); // shared by all 4
    EXPECT_EQ(terminator->eax, 0u);
}

TEST(BootCpuid, ThermalLeaf_OnlyAratKept)
{
    auto host = host_table();
    auto table = cpuid_for_vcpu(host, 0, 2);
    auto const* leaf6 = find(table, 0x6);
    ASSERT_NE(leaf6, nullptr);
    EXPECT_EQ(leaf6->eax, 0x4u);
    EXPECT_EQ(leaf6->ebx, 0u);
    EXPECT_EQ(leaf6->ecx, 0u);
}

TEST(BootCpuid, KvmLeavesAndVendor_PassThrough)
{
    auto host = host_table();
    auto table = cpuid_for_vcpu(host, 1, 2);
    auto const* kvm = find(table, 0x4000'0000);
    ASSERT_NE(kvm, nullptr);
    EXPECT_EQ(kvm->ebx, 0x4b4d564bu);
    EXPECT_EQ(kvm->eax, 0x4000'0001u);
    auto const* vendor = find(table, 0x0);
    ASSERT_NE(vendor, nullptr);
    EXPECT_EQ(vendor->ebx, 0x756e6547u);
}

TEST(BootCpuid, AmdCoreCount_MatchesVcpuCount)
{
    auto host = host_table();
    auto table = cpuid_for_vcpu(host, 1, 2);
    auto const* leaf = find(table, 0x8000'0008);
    ASSERT_NE(leaf, nullptr);
    EXPECT_EQ(leaf->ecx & 0xff, 1u); // 2 cores
    EXPECT_EQ((leaf->ecx >> 12) & 0xf, 1u); // 1 APIC id bit
    EXPECT_EQ(leaf->eax, 0x3030u); // address sizes kept
}

namespace {

// The lab host's table (QEMU TCG, EPYC): x87, SSE and AVX; XSAVEOPT only; the sizes KVM left
// from its own XCR0 when it filled the table, not the guest's.
std::vector<kvm_cpuid_entry2> avx_host_table(uint32_t stale_size)
{
    auto table = host_table();
    table[1].ecx |= 1u << 26; // XSAVE
    auto enumeration = entry(0xd, 0, 0x7, stale_size, stale_size, 0);
    auto compaction = entry(0xd, 1, 0x5, 0, 0, 0);
    auto avx = entry(0xd, 2, 0x100, 0x240, 0, 0);
    for (auto* e : { &enumeration, &compaction, &avx })
        e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
    table.insert(table.end(), { enumeration, compaction, avx });
    return table;
}

} // namespace

TEST(BootCpuid, XsaveSizes_MatchTheComponentsTheGuestEnables)
{
    // 576 is x87+SSE only, what the guest read in the lab; with AVX the area is 832 bytes.
    auto host = avx_host_table(576);
    auto table = cpuid_for_vcpu(host, 0, 1);
    auto const* leaf = find(table, 0xd, 0);
    ASSERT_NE(leaf, nullptr);
    EXPECT_EQ(leaf->eax, 0x7u);
    EXPECT_EQ(leaf->ebx, 832u); // AVX at offset 576, 256 bytes
    EXPECT_EQ(leaf->ecx, 832u);
    auto const* compaction = find(table, 0xd, 1);
    ASSERT_NE(compaction, nullptr);
    EXPECT_EQ(compaction->ebx, 0u); // no XSAVEC/XSAVES: no compacted size
    EXPECT_EQ(compaction->eax, 0x5u);
    auto const* avx = find(table, 0xd, 2);
    ASSERT_NE(avx, nullptr);
    EXPECT_EQ(avx->eax, 0x100u); // component subleaves pass through
    EXPECT_EQ(avx->ebx, 0x240u);
}

TEST(BootCpuid, XsaveSizes_AnInflatedHostSizeIsCutToTheGuestComponents)
{
    // A host with AVX-512 enabled reports 2696 bytes; the guest table offers only x87-AVX.
    auto table = cpuid_for_vcpu(avx_host_table(2696), 0, 1);
    EXPECT_EQ(find(table, 0xd, 0)->ebx, 832u);
    EXPECT_EQ(find(table, 0xd, 0)->ecx, 832u);
}

TEST(BootCpuid, XsaveSizes_CompactedFormatAlignsAndCountsSupervisorState)
{
    auto host = avx_host_table(832);
    host.push_back(entry(0xd, 3, 0x40, 0x3c0, 0, 0)); // MPX BNDREGS, 64 bytes, standard offset 960
    host.push_back(entry(0xd, 8, 0x8, 0, 0x3, 0)); // PT, a supervisor component: 8 bytes, aligned
    for (auto& e : host) {
        if (e.function == 0xd) {
            e.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
            if (e.index == 0)
                e.eax = 0xf; // x87, SSE, AVX, BNDREGS
            if (e.index == 1) {
                e.eax = 0xf; // XSAVEOPT, XSAVEC, XGETBV1, XSAVES
                e.ecx = 1u << 8; // component 8 in IA32_XSS
            }
        }
    }
    auto table = cpuid_for_vcpu(host, 0, 1);
    EXPECT_EQ(find(table, 0xd, 0)->ebx, 1024u); // standard: BNDREGS ends at 960 + 64
    // Compacted: 576 + 256 (AVX) + 64 (BNDREGS) = 896, aligned to 64 (already), + 8.
    EXPECT_EQ(find(table, 0xd, 1)->ebx, 904u);
    EXPECT_EQ(xsave_area_size(table, 0x3, true), 576u);
    EXPECT_EQ(xsave_area_size(table, 0x7, false), 832u);
}

TEST(BootCpuid, GuestXcr0_IsEveryComponentOfLeafD)
{
    auto table = cpuid_for_vcpu(avx_host_table(576), 0, 1);
    EXPECT_EQ(guest_xcr0(table), 0x7u);
    auto xcrs = initial_xcrs(table);
    EXPECT_EQ(xcrs.nr_xcrs, 1u);
    EXPECT_EQ(xcrs.xcrs[0].xcr, 0u);
    EXPECT_EQ(xcrs.xcrs[0].value, 0x7u);
}

TEST(BootCpuid, GuestXcr0_X87OnlyWithoutXsave)
{
    auto host = avx_host_table(576);
    host[1].ecx &= ~(1u << 26); // XSAVE off in leaf 1
    EXPECT_EQ(guest_xcr0(host), 0x1u);
    EXPECT_EQ(guest_xcr0(host_table()), 0x1u); // no leaf 0xd at all
}
