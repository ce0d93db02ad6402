// CPUID normalisation for one vCPU. The supported table describes the host CPU; the guest must
// instead see a consistent virtual package, or Linux misnumbers CPUs and may refuse to bring up
// secondary vCPUs whose APIC ids disagree with the MP table.
#include "runtime/boot/cpuid.hpp"

#include <algorithm>
#include <bit>

namespace husk {

using namespace cpuid;

namespace {

    constexpr uint32_t bits(uint32_t value, unsigned low, unsigned width)
    {
        return (value & ((1u << width) - 1)) << low;
    }

    constexpr uint32_t clear_bits(uint32_t value, unsigned low, unsigned width)
    {
        return value & ~bits(UINT32_MAX, low, width);
    }

    // Number of APIC id bits that distinguish `count` cores (x2APIC topology shift).
    uint32_t id_bits_for(unsigned count) { return count <= 1 ? 0 : std::bit_width(count - 1); }

    void adjust_features(kvm_cpuid_entry2& entry, unsigned vcpu_index, unsigned vcpu_count)
    {
        // The initial APIC id must equal the MP table's processor entry (APIC id = vCPU index).
        entry.ebx = clear_bits(entry.ebx, ebx_apic_id_shift, 8) | bits(vcpu_index, ebx_apic_id_shift, 8);
        // Addressable logical processors in the package; only meaningful with HTT set.
        entry.ebx = clear_bits(entry.ebx, ebx_logical_count_shift, 8) | bits(vcpu_count, ebx_logical_count_shift, 8);
        if (vcpu_count > 1)
            entry.edx |= edx_htt;
        else
            entry.edx &= ~edx_htt;
        // Tells the guest it runs virtualised, so it looks for the KVM leaves (kvmclock, PV features).
        entry.ecx |= ecx_hypervisor;
        // KVM's in-kernel LAPIC emulates the TSC-deadline timer, but kernels before 6.14 do not report
        // it in KVM_GET_SUPPORTED_CPUID; it is the cheapest timer for the guest.
        entry.ecx |= ecx_tsc_deadline;
        // MONITOR/MWAIT is not virtualised by default (it would exit or hang the idle loop), and
        // PDCM advertises IA32_PERF_CAPABILITIES, a PMU MSR husk does not expose.
        entry.ecx &= ~(ecx_monitor | ecx_pdcm);
    }

    void adjust_cache_parameters(kvm_cpuid_entry2& entry, unsigned vcpu_count)
    {
        constexpr uint32_t cache_level_shift = 5;
        uint32_t level = (entry.eax >> cache_level_shift) & 0x7;
        if (level == 0) // no cache at this subleaf: leave the terminator alone
            return;
        // EAX[25:14]: logical processors sharing this cache - 1. One thread per core, so L1 and L2
        // are private; the last level is shared by the whole package.
        uint32_t sharing = level >= 3 ? vcpu_count - 1 : 0;
        // EAX[31:26]: cores in the package - 1.
        uint32_t cores = vcpu_count - 1;
        entry.eax = clear_bits(entry.eax, 14, 12) | bits(sharing, 14, 12);
        entry.eax = clear_bits(entry.eax, 26, 6) | bits(std::min(cores, 63u), 26, 6);
    }

    kvm_cpuid_entry2 const* find_entry(std::span<kvm_cpuid_entry2 const> table, uint32_t function, uint32_t index)
    {
        for (auto const& entry : table)
            if (entry.function == function && entry.index == index)
                return &entry;
        return nullptr;
    }

    uint64_t edx_eax(kvm_cpuid_entry2 const& entry) { return (uint64_t { entry.edx } << 32) | entry.eax; }

    // Leaf 0xd's sizes describe the host's XCR0 at the time KVM ran CPUID. They must describe the
    // components this guest can enable: Linux recomputes the size from the per-component
    // subleaves and refuses XSAVE's own figure when the two differ ("XSAVE consistency problem").
    void adjust_xsave(kvm_cpuid_entry2& entry, std::span<kvm_cpuid_entry2 const> supported)
    {
        auto const* enumeration = find_entry(supported, leaf_xsave, 0);
        if (!enumeration)
            return;
        uint64_t xcr0 = edx_eax(*enumeration);
        if (entry.index == 0) {
            // EBX: the area for the XCR0 the vCPU starts with (guest_xcr0); ECX: for every
            // component XCR0 can hold. The same here: the guest starts with all of them.
            entry.ebx = xsave_area_size(supported, xcr0, false);
            entry.ecx = entry.ebx;
        } else if (entry.index == 1) {
            // EBX: the compacted area for XCR0 | IA32_XSS, given only when XSAVEC or XSAVES can
            // use that format (0 otherwise, as KVM reports it). Supervisor components start
            // disabled in IA32_XSS; counting them keeps the figure an upper bound.
            bool compacted = (entry.eax & (eax_xsavec | eax_xsaves)) != 0;
            uint64_t xss = (uint64_t { entry.edx } << 32) | entry.ecx; // what IA32_XSS can hold
            entry.ebx = compacted ? xsave_area_size(supported, xcr0 | xss, true) : 0;
        }
    }

    // One subleaf of leaf 0xb/0x1f: SMT level (1 thread per core), core level (vcpu_count cores),
    // then the invalid level that ends the enumeration.
    kvm_cpuid_entry2 topology_entry(uint32_t leaf, uint32_t subleaf, unsigned vcpu_index, unsigned vcpu_count)
    {
        kvm_cpuid_entry2 entry {};
        entry.function = leaf;
        entry.index = subleaf;
        entry.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
        entry.edx = vcpu_index; // x2APIC id, same as the xAPIC id
        entry.ecx = bits(subleaf, 0, 8);
        if (subleaf == 0) {
            entry.eax = 0;
            entry.ebx = 1;
            entry.ecx |= bits(level_type_smt, 8, 8);
        } else if (subleaf == 1) {
            entry.eax = id_bits_for(vcpu_count);
            entry.ebx = vcpu_count;
            entry.ecx |= bits(level_type_core, 8, 8);
        } else {
            entry.ecx |= bits(level_type_invalid, 8, 8);
        }
        return entry;
    }

} // namespace

std::vector<kvm_cpuid_entry2> cpuid_for_vcpu(
    std::span<kvm_cpuid_entry2 const> supported, unsigned vcpu_index, unsigned vcpu_count)
{
    vcpu_count = std::max(vcpu_count, 1u);
    std::vector<kvm_cpuid_entry2> result;
    bool has_topology = false;
    bool has_topology_v2 = false;
    for (auto entry : supported) {
        switch (entry.function) {
        case leaf_features:
            adjust_features(entry, vcpu_index, vcpu_count);
            break;
        case leaf_cache_parameters:
            adjust_cache_parameters(entry, vcpu_count);
            break;
        case leaf_thermal_power:
            // Thermal and power management are the host's; only ARAT is a property of KVM's
            // emulated APIC timer, and without it Linux assumes the timer stops in idle.
            entry.eax &= eax_arat;
            entry.ebx = entry.ecx = entry.edx = 0;
            break;
        case leaf_xsave:
            adjust_xsave(entry, supported);
            break;
        case leaf_extended_topology:
            // The host's subleaves describe the host; rebuilt below for the virtual package.
            has_topology = true;
            continue;
        case leaf_extended_topology_v2:
            has_topology_v2 = true;
            continue;
        case leaf_amd_address_sizes:
            // ECX[7:0]: cores - 1; ECX[15:12]: APIC id bits for cores (AMD's topology source).
            entry.ecx = clear_bits(entry.ecx, 0, 8) | bits(vcpu_count - 1, 0, 8);
            entry.ecx = clear_bits(entry.ecx, 12, 4) | bits(id_bits_for(vcpu_count), 12, 4);
            break;
        case leaf_amd_extended_apic_id:
            // EAX: extended APIC id; EBX: core id, one thread per core (EBX[15:8] = 0);
            // ECX: one node, id 0.
            entry.eax = vcpu_index;
            entry.ebx = bits(vcpu_index, 0, 8);
            entry.ecx = 0;
            break;
        default:
            break;
        }
        result.push_back(entry);
    }
    for (uint32_t subleaf = 0; subleaf < 3; ++subleaf) {
        if (has_topology)
            result.push_back(topology_entry(leaf_extended_topology, subleaf, vcpu_index, vcpu_count));
        if (has_topology_v2)
            result.push_back(topology_entry(leaf_extended_topology_v2, subleaf, vcpu_index, vcpu_count));
    }
    return result;
}

uint64_t guest_xcr0(std::span<kvm_cpuid_entry2 const> table)
{
    constexpr uint64_t x87_only = 1;
    auto const* features = find_entry(table, leaf_features, 0);
    auto const* enumeration = find_entry(table, leaf_xsave, 0);
    if (!features || !(features->ecx & ecx_xsave) || !enumeration)
        return x87_only;
    return edx_eax(*enumeration) | x87_only;
}

kvm_xcrs initial_xcrs(std::span<kvm_cpuid_entry2 const> table)
{
    kvm_xcrs xcrs {};
    xcrs.nr_xcrs = 1;
    xcrs.xcrs[0].xcr = 0; // XCR0, the only one KVM knows
    xcrs.xcrs[0].value = guest_xcr0(table);
    return xcrs;
}

uint32_t xsave_area_size(std::span<kvm_cpuid_entry2 const> table, uint64_t mask, bool compacted)
{
    // Components 0 and 1 live in the legacy region; the extended ones follow the header.
    uint32_t size = xsave_legacy_and_header_size;
    for (uint32_t component = 2; component < 64; ++component) {
        if (!(mask & (uint64_t { 1 } << component)))
            continue;
        auto const* subleaf = find_entry(table, leaf_xsave, component);
        if (!subleaf || subleaf->eax == 0)
            continue; // a component the table does not describe takes no room
        if (compacted) {
            // Packed in component order; some start on a 64-byte boundary.
            if (subleaf->ecx & ecx_xsave_aligned)
                size = (size + 63) & ~63u;
            size += subleaf->eax;
        } else {
            size = std::max(size, subleaf->ebx + subleaf->eax);
        }
    }
    return size;
}

} // namespace husk
