// MP table: parsed back from guest memory as a guest kernel would, checksums verified.
#include "runtime/boot/layout.hpp"
#include "runtime/boot/mptable.hpp"

#include <cstring>
#include <gtest/gtest.h>
#include <numeric>
#include <vector>

using namespace husk;
using namespace husk::mptable;

namespace {

struct ParsedTable {
    FloatingPointer pointer {};
    ConfigTableHeader header {};
    std::vector<ProcessorEntry> processors;
    std::vector<IoApicEntry> ioapics;
    std::vector<BusEntry> buses;
    std::vector<InterruptEntry> io_interrupts;
    std::vector<InterruptEntry> local_interrupts;
    uint8_t pointer_sum { 1 };
    uint8_t table_sum { 1 };
};

uint8_t byte_sum(std::vector<uint8_t> const& bytes)
{
    return static_cast<uint8_t>(std::accumulate(bytes.begin(), bytes.end(), 0u));
}

template<typename T>
T take(std::vector<uint8_t> const& bytes, size_t& offset)
{
    T object;
    std::memcpy(&object, bytes.data() + offset, sizeof object);
    offset += sizeof object;
    return object;
}

ParsedTable parse(GuestMemory const& memory)
{
    ParsedTable parsed;
    std::vector<uint8_t> pointer_bytes(sizeof(FloatingPointer));
    EXPECT_TRUE(memory.read(layout::ebda_start, pointer_bytes));
    parsed.pointer_sum = byte_sum(pointer_bytes);
    std::memcpy(&parsed.pointer, pointer_bytes.data(), sizeof parsed.pointer);

    GuestAddress table_address(parsed.pointer.config_table);
    parsed.header = *memory.read_obj<ConfigTableHeader>(table_address);
    std::vector<uint8_t> table(parsed.header.base_table_length);
    EXPECT_TRUE(memory.read(table_address, table));
    parsed.table_sum = byte_sum(table);

    size_t offset = sizeof(ConfigTableHeader);
    for (unsigned i = 0; i < parsed.header.entry_count; ++i) {
        switch (static_cast<EntryType>(table.at(offset))) {
        case EntryType::Processor:
            parsed.processors.push_back(take<ProcessorEntry>(table, offset));
            break;
        case EntryType::Bus:
            parsed.buses.push_back(take<BusEntry>(table, offset));
            break;
        case EntryType::IoApic:
            parsed.ioapics.push_back(take<IoApicEntry>(table, offset));
            break;
        case EntryType::IoInterrupt:
            parsed.io_interrupts.push_back(take<InterruptEntry>(table, offset));
            break;
        case EntryType::LocalInterrupt:
            parsed.local_interrupts.push_back(take<InterruptEntry>(table, offset));
            break;
        default:
            ADD_FAILURE() << "unknown entry type " << int(table.at(offset));
            return parsed;
        }
    }
    EXPECT_EQ(offset, table.size());
    return parsed;
}

GuestMemory make_mptable_memory()
{
    auto memory = GuestMemory::create(layout::ram_regions(16 << 20));
    EXPECT_TRUE(memory.has_value());
    return std::move(memory).value();
}

} // namespace

TEST(MpTable, TwoVcpus_ChecksumsAndSignaturesAreValid)
{
    auto memory = make_mptable_memory();
    ASSERT_TRUE(write_mptable(memory, 2));

    auto table = parse(memory);

    EXPECT_EQ(std::string(table.pointer.signature, 4), "_MP_");
    EXPECT_EQ(table.pointer_sum, 0);
    EXPECT_EQ(table.pointer.length, 1);
    EXPECT_EQ(table.pointer.spec_revision, 4);
    EXPECT_EQ(std::string(table.header.signature, 4), "PCMP");
    EXPECT_EQ(table.table_sum, 0);
    EXPECT_EQ(table.header.spec_revision, 4);
    uint32_t lapic = table.header.lapic_address;
    EXPECT_EQ(lapic, 0xfee00000u);
}

TEST(MpTable, TwoVcpus_ProcessorsBusIoApicAndInterrupts)
{
    auto memory = make_mptable_memory();
    ASSERT_TRUE(write_mptable(memory, 2));

    auto table = parse(memory);

    ASSERT_EQ(table.processors.size(), 2u);
    EXPECT_EQ(table.processors[0].lapic_id, 0);
    EXPECT_EQ(table.processors[0].cpu_flags, cpu_flag_enabled | cpu_flag_bootstrap);
    EXPECT_EQ(table.processors[1].lapic_id, 1);
    EXPECT_EQ(table.processors[1].cpu_flags, cpu_flag_enabled);
    ASSERT_EQ(table.buses.size(), 1u);
    EXPECT_EQ(std::string(table.buses[0].bus_type, 6), "ISA   ");
    ASSERT_EQ(table.ioapics.size(), 1u);
    EXPECT_EQ(table.ioapics[0].ioapic_id, 2); // first id after the CPUs
    uint32_t ioapic_address = table.ioapics[0].address;
    EXPECT_EQ(ioapic_address, 0xfec00000u);
    EXPECT_EQ(table.ioapics[0].flags, ioapic_flag_enabled);
    ASSERT_EQ(table.io_interrupts.size(), ioapic_pin_count);
    for (unsigned irq = 0; irq < table.io_interrupts.size(); ++irq) {
        auto const& entry = table.io_interrupts[irq];
        EXPECT_EQ(entry.interrupt_type, InterruptType::Int);
        EXPECT_EQ(entry.source_bus_irq, irq);
        EXPECT_EQ(entry.destination_id, 2);
        EXPECT_EQ(entry.destination_pin, irq);
    }
    ASSERT_EQ(table.local_interrupts.size(), 2u);
    EXPECT_EQ(table.local_interrupts[0].interrupt_type, InterruptType::ExtInt);
    EXPECT_EQ(table.local_interrupts[0].destination_pin, 0);
    EXPECT_EQ(table.local_interrupts[1].interrupt_type, InterruptType::Nmi);
    EXPECT_EQ(table.local_interrupts[1].destination_pin, 1);
    EXPECT_EQ(table.local_interrupts[1].destination_id, all_local_apics);
}

TEST(MpTable, OneVcpu_IsAccepted)
{
    auto memory = make_mptable_memory();
    ASSERT_TRUE(write_mptable(memory, 1));
    auto table = parse(memory);
    EXPECT_EQ(table.processors.size(), 1u);
    EXPECT_EQ(table.table_sum, 0);
}

TEST(MpTable, ThirtyTwoVcpus_IsAcceptedAndFitsInTheScannedKilobyte)
{
    auto memory = make_mptable_memory();
    ASSERT_TRUE(write_mptable(memory, 32));
    auto table = parse(memory);
    EXPECT_EQ(table.processors.size(), 32u);
    EXPECT_EQ(table.processors[31].lapic_id, 31);
    EXPECT_EQ(table.ioapics.at(0).ioapic_id, 32);
    EXPECT_EQ(table.table_sum, 0);
    EXPECT_LE(layout::ebda_start.value() + sizeof(FloatingPointer) + table.header.base_table_length, 0xa0000u);
}

TEST(MpTable, ZeroVcpus_IsRejected)
{
    auto memory = make_mptable_memory();
    auto result = write_mptable(memory, 0);
    ASSERT_FALSE(result.has_value());
    EXPECT_NE(result.error().message.find("1 to 32 vCPUs"), std::string::npos);
}

TEST(MpTable, ThirtyThreeVcpus_IsRejected)
{
    auto memory = make_mptable_memory();
    auto result = write_mptable(memory, 33);
    ASSERT_FALSE(result.has_value());
    EXPECT_NE(result.error().message.find("not 33"), std::string::npos);
}
