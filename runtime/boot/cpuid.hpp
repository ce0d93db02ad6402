// Per-vCPU CPUID table: KVM_GET_SUPPORTED_CPUID adjusted so each vCPU sees its own APIC id and a
// topology of `vcpu_count` single-threaded cores in one package, plus the hypervisor bit.
#pragma once

#include <cstdint>
#include <linux/kvm.h>
#include <span>
#include <vector>

namespace husk {

namespace cpuid {
    inline constexpr uint32_t leaf_features = 0x1;
    inline constexpr uint32_t leaf_cache_parameters = 0x4;
    inline constexpr uint32_t leaf_thermal_power = 0x6;
    inline constexpr uint32_t leaf_extended_topology = 0xb;
    inline constexpr uint32_t leaf_xsave = 0xd;
    inline constexpr uint32_t leaf_extended_topology_v2 = 0x1f;
    inline constexpr uint32_t leaf_amd_address_sizes = 0x8000'0008;
    inline constexpr uint32_t leaf_amd_extended_apic_id = 0x8000'001e;

    // Leaf 1
    inline constexpr uint32_t ecx_monitor = 1u << 3;
    inline constexpr uint32_t ecx_pdcm = 1u << 15;
    inline constexpr uint32_t ecx_tsc_deadline = 1u << 24;
    inline constexpr uint32_t ecx_xsave = 1u << 26;
    inline constexpr uint32_t ecx_hypervisor = 1u << 31;
    inline constexpr uint32_t edx_htt = 1u << 28;
    inline constexpr uint32_t ebx_apic_id_shift = 24;
    inline constexpr uint32_t ebx_logical_count_shift = 16;
    // Leaf 0xd subleaf 1 EAX
    inline constexpr uint32_t eax_xsavec = 1u << 1;
    inline constexpr uint32_t eax_xsaves = 1u << 3;
    // Leaf 0xd subleaf i >= 2, ECX: the component is 64-byte aligned in the compacted format.
    inline constexpr uint32_t ecx_xsave_aligned = 1u << 1;
    // The legacy region (x87, SSE) and the XSAVE header: the smallest XSAVE area.
    inline constexpr uint32_t xsave_legacy_and_header_size = 512 + 64;
    // Leaf 6
    inline constexpr uint32_t eax_arat = 1u << 2; // APIC timer keeps running in deep C-states
    // Leaf 0xb / 0x1f level types (ECX[15:8])
    inline constexpr uint32_t level_type_invalid = 0;
    inline constexpr uint32_t level_type_smt = 1;
    inline constexpr uint32_t level_type_core = 2;
} // namespace cpuid

// Changes, each for a reason documented in cpuid.cpp: leaf 1 (APIC id, logical count, HTT,
// hypervisor, TSC deadline, no MONITOR/PDCM), leaf 4 (cores and cache sharing), leaf 6 (all but
// ARAT cleared), leaves 0xb and 0x1f (rebuilt: 1 thread per core, vcpu_count cores, EDX = x2APIC
// id), leaf 0xd (XSAVE area sizes computed from the per-component subleaves for every component
// the guest can enable, see guest_xcr0), AMD leaves 0x80000008 (core count) and 0x8000001e
// (APIC id). All other leaves, including the KVM paravirt leaves from 0x40000000, pass through
// unchanged.
// Requires an in-kernel irqchip (KVM_CREATE_IRQCHIP): TSC deadline and x2APIC are emulated there.
std::vector<kvm_cpuid_entry2> cpuid_for_vcpu(
    std::span<kvm_cpuid_entry2 const> supported, unsigned vcpu_index, unsigned vcpu_count);

// The XCR0 a guest with this CPUID table can enable (leaf 0xd subleaf 0 EDX:EAX; 1, x87 only,
// without XSAVE). The vCPU starts with it (KVM_SET_XCRS after KVM_SET_CPUID2): KVM rewrites the
// leaf 0xd sizes from the vCPU's XCR0 when CPUID is set and when a guest XSETBV changes it, and
// a guest whose XSETBV does not reach KVM (nested under an emulator that does not intercept it,
// as the lab's QEMU TCG) would otherwise read the sizes of the reset value, x87 only, and warn
// "XSAVE consistency problem". Linux enables all of these components at boot anyway.
uint64_t guest_xcr0(std::span<kvm_cpuid_entry2 const> table);
// KVM_SET_XCRS's argument for it.
kvm_xcrs initial_xcrs(std::span<kvm_cpuid_entry2 const> table);

// Size of an XSAVE area holding the components of `mask` (bits 0 and 1, x87 and SSE, always in
// the legacy region), laid out in the standard or the compacted format, from the table's leaf
// 0xd subleaves (offset in EBX, size in EAX, alignment in ECX). What the CPU reports in leaf 0xd
// subleaf 0 EBX (standard, XCR0) and subleaf 1 EBX (compacted, XCR0 | IA32_XSS).
uint32_t xsave_area_size(std::span<kvm_cpuid_entry2 const> table, uint64_t mask, bool compacted);

} // namespace husk
