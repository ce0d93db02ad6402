// Intel MultiProcessor Specification 1.4 tables: how a guest without ACPI learns its CPUs, its
// IOAPIC and how legacy IRQs are wired. Linux finds the floating pointer by scanning the last
// KiB of base memory (layout::ebda_start).
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/memory/guest_memory.hpp"

#include <cstdint>

namespace husk {

namespace mptable {

    inline constexpr unsigned max_vcpus = 32;
    inline constexpr unsigned ioapic_pin_count = 24; // KVM's in-kernel IOAPIC has 24 inputs
    inline constexpr uint8_t spec_revision = 4; // MP spec 1.4
    inline constexpr uint8_t apic_version = 0x14; // integrated xAPIC, as KVM's LAPIC reports
    inline constexpr uint8_t ioapic_version = 0x11; // 82093AA-compatible, as KVM's IOAPIC reports

    struct [[gnu::packed]] FloatingPointer {
        char signature[4]; // "_MP_"
        uint32_t config_table; // physical address of the configuration table
        uint8_t length; // in 16-byte units: 1
        uint8_t spec_revision;
        uint8_t checksum; // all 16 bytes sum to 0
        uint8_t feature[5]; // feature[0] = 0: a configuration table is present
    };
    static_assert(sizeof(FloatingPointer) == 16);

    struct [[gnu::packed]] ConfigTableHeader {
        char signature[4]; // "PCMP"
        uint16_t base_table_length; // header + entries
        uint8_t spec_revision;
        uint8_t checksum; // header + entries sum to 0
        char oem_id[8];
        char product_id[12];
        uint32_t oem_table;
        uint16_t oem_table_size;
        uint16_t entry_count;
        uint32_t lapic_address;
        uint16_t extended_table_length;
        uint8_t extended_table_checksum;
        uint8_t reserved;
    };
    static_assert(sizeof(ConfigTableHeader) == 44);

    enum class EntryType : uint8_t { Processor = 0, Bus = 1, IoApic = 2, IoInterrupt = 3, LocalInterrupt = 4 };
    enum class InterruptType : uint8_t { Int = 0, Nmi = 1, Smi = 2, ExtInt = 3 };

    inline constexpr uint8_t cpu_flag_enabled = 0x01;
    inline constexpr uint8_t cpu_flag_bootstrap = 0x02;
    inline constexpr uint8_t ioapic_flag_enabled = 0x01;

    struct [[gnu::packed]] ProcessorEntry {
        EntryType type;
        uint8_t lapic_id;
        uint8_t lapic_version;
        uint8_t cpu_flags;
        uint32_t cpu_signature;
        uint32_t feature_flags;
        uint32_t reserved[2];
    };
    static_assert(sizeof(ProcessorEntry) == 20);

    struct [[gnu::packed]] BusEntry {
        EntryType type;
        uint8_t bus_id;
        char bus_type[6]; // "ISA   "
    };
    static_assert(sizeof(BusEntry) == 8);

    struct [[gnu::packed]] IoApicEntry {
        EntryType type;
        uint8_t ioapic_id;
        uint8_t ioapic_version;
        uint8_t flags;
        uint32_t address;
    };
    static_assert(sizeof(IoApicEntry) == 8);

    // Shared by I/O and local interrupt assignment entries (same layout, different destination).
    struct [[gnu::packed]] InterruptEntry {
        EntryType type;
        InterruptType interrupt_type;
        uint16_t flags; // polarity and trigger; 0 = conforms to the bus (ISA: edge, active high)
        uint8_t source_bus_id;
        uint8_t source_bus_irq;
        uint8_t destination_id; // IOAPIC id, or local APIC id (0xff = all)
        uint8_t destination_pin; // IOAPIC INTIN#, or LINTIN#
    };
    static_assert(sizeof(InterruptEntry) == 8);

    inline constexpr uint8_t all_local_apics = 0xff;

} // namespace mptable

// Writes the floating pointer and the configuration table at layout::ebda_start: one processor
// per vCPU (APIC id = index, vCPU 0 the bootstrap processor), an ISA bus, an IOAPIC with id
// vcpu_count, ISA IRQs 0..15 and the remaining IOAPIC pins up to 23 routed to IOAPIC pin = IRQ
// (edge, as virtio-mmio devices use), ExtINT on LINT0 and NMI on LINT1. Accepts 1..32 vCPUs.
Result<void> write_mptable(GuestMemory& memory, unsigned vcpu_count);

} // namespace husk
