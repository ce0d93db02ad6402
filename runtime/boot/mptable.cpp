// MP table construction: built in a host buffer, checksummed, then written in one checked copy.
#include "runtime/boot/mptable.hpp"

#include "runtime/boot/layout.hpp"

#include <cstring>
#include <numeric>
#include <vector>

namespace husk {

using namespace mptable;

namespace {

    constexpr uint8_t isa_bus_id = 0;
    constexpr uint8_t bootstrap_lapic_id = 0;
    // Family 6, model 1, stepping 0: what the table reports for the CPU signature (informational;
    // Linux takes the real one from CPUID), and the FPU + APIC feature bits from CPUID leaf 1 EDX.
    constexpr uint32_t cpu_signature = (6 << 8) | (1 << 4);
    constexpr uint32_t cpu_feature_fpu = 1u << 0;
    constexpr uint32_t cpu_feature_apic = 1u << 9;
    constexpr uint8_t lint0 = 0;
    constexpr uint8_t lint1 = 1;

    template<typename T>
    void append(std::vector<uint8_t>& buffer, T const& object)
    {
        auto const* bytes = reinterpret_cast<uint8_t const*>(&object);
        buffer.insert(buffer.end(), bytes, bytes + sizeof object);
    }

    // The byte that makes the given bytes sum to zero modulo 256.
    uint8_t checksum(uint8_t const* bytes, size_t size)
    {
        return static_cast<uint8_t>(-std::accumulate(bytes, bytes + size, 0u));
    }

    std::vector<uint8_t> build_entries(unsigned vcpu_count, uint16_t& entry_count)
    {
        std::vector<uint8_t> entries;
        auto const ioapic_id = static_cast<uint8_t>(vcpu_count); // the first id after the CPUs'
        entry_count = 0;
        for (unsigned cpu = 0; cpu < vcpu_count; ++cpu) {
            ProcessorEntry processor {};
            processor.type = EntryType::Processor;
            processor.lapic_id = static_cast<uint8_t>(cpu);
            processor.lapic_version = apic_version;
            processor.cpu_flags = cpu_flag_enabled | (cpu == 0 ? cpu_flag_bootstrap : 0);
            processor.cpu_signature = cpu_signature;
            processor.feature_flags = cpu_feature_fpu | cpu_feature_apic;
            append(entries, processor);
            ++entry_count;
        }

        BusEntry bus { EntryType::Bus, isa_bus_id, { 'I', 'S', 'A', ' ', ' ', ' ' } };
        append(entries, bus);
        IoApicEntry ioapic { EntryType::IoApic, ioapic_id, ioapic_version, ioapic_flag_enabled,
            static_cast<uint32_t>(layout::ioapic_address.value()) };
        append(entries, ioapic);
        entry_count += 2;

        // Pins beyond the 16 ISA IRQs are listed too (as Firecracker does) so that virtio-mmio
        // devices may use IRQs up to 23 with the same edge-triggered semantics.
        for (unsigned irq = 0; irq < ioapic_pin_count; ++irq) {
            InterruptEntry entry { EntryType::IoInterrupt, InterruptType::Int, 0, isa_bus_id, static_cast<uint8_t>(irq),
                ioapic_id, static_cast<uint8_t>(irq) };
            append(entries, entry);
            ++entry_count;
        }
        // The 8259 PIC reaches the bootstrap CPU through LINT0 (virtual wire mode until the kernel
        // switches to the IOAPIC); NMIs reach every CPU through LINT1.
        InterruptEntry extint { EntryType::LocalInterrupt, InterruptType::ExtInt, 0, isa_bus_id, 0, bootstrap_lapic_id,
            lint0 };
        InterruptEntry nmi { EntryType::LocalInterrupt, InterruptType::Nmi, 0, isa_bus_id, 0, all_local_apics, lint1 };
        append(entries, extint);
        append(entries, nmi);
        entry_count += 2;
        return entries;
    }

} // namespace

Result<void> write_mptable(GuestMemory& memory, unsigned vcpu_count)
{
    if (vcpu_count == 0 || vcpu_count > max_vcpus)
        return fail(
            "MP table supports 1 to " + std::to_string(max_vcpus) + " vCPUs, not " + std::to_string(vcpu_count));

    uint16_t entry_count = 0;
    auto entries = build_entries(vcpu_count, entry_count);
    uint64_t const config_address = layout::ebda_start.value() + sizeof(FloatingPointer);

    ConfigTableHeader header {};
    std::memcpy(header.signature, "PCMP", sizeof header.signature);
    header.base_table_length = static_cast<uint16_t>(sizeof header + entries.size());
    header.spec_revision = spec_revision;
    std::memcpy(header.oem_id, "HUSK    ", sizeof header.oem_id);
    std::memcpy(header.product_id, "HUSK-VM     ", sizeof header.product_id);
    header.entry_count = entry_count;
    header.lapic_address = static_cast<uint32_t>(layout::lapic_address.value());

    FloatingPointer pointer {};
    std::memcpy(pointer.signature, "_MP_", sizeof pointer.signature);
    pointer.config_table = static_cast<uint32_t>(config_address);
    pointer.length = sizeof pointer / 16;
    pointer.spec_revision = spec_revision;
    pointer.checksum = checksum(reinterpret_cast<uint8_t const*>(&pointer), sizeof pointer);

    std::vector<uint8_t> table;
    append(table, pointer);
    append(table, header);
    table.insert(table.end(), entries.begin(), entries.end());
    // The configuration table checksum covers its header and entries, not the floating pointer.
    auto* table_header = table.data() + sizeof pointer;
    table_header[offsetof(ConfigTableHeader, checksum)] = checksum(table_header, header.base_table_length);

    if (layout::ebda_start.value() + table.size() > layout::high_memory_start.value())
        return fail("MP table of " + std::to_string(table.size()) + " bytes does not fit below 1 MiB");
    TRY_CONTEXT(memory.write(layout::ebda_start, table), "cannot write the MP table");
    return {};
}

} // namespace husk
