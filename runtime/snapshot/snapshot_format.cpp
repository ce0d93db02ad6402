// Snapshot state file: header, sections and their fields.
#include "runtime/snapshot/snapshot_format.hpp"

#include "runtime/snapshot/crc32c.hpp"
#include "runtime/snapshot/share_session_format.hpp"
#include "runtime/snapshot/state_decoder.hpp"
#include "runtime/snapshot/state_encoder.hpp"
#include "virtio/core/virtio_spec.hpp"

#include <algorithm>
#include <cstring>

namespace husk {

namespace fmt = snapshot_format;

namespace {
    bool is_share_slot(uint32_t device_type) { return device_type == static_cast<uint32_t>(virtio::DeviceType::NineP); }
    bool is_net_slot(uint32_t device_type) { return device_type == static_cast<uint32_t>(virtio::DeviceType::Net); }

    // ---- encoding ----

    template<typename T>
    void put_array(StateEncoder& out, std::vector<T> const& entries)
    {
        out.u32(static_cast<uint32_t>(entries.size()));
        for (auto const& entry : entries)
            out.blob(entry);
    }

    void put_vcpu(StateEncoder& out, VcpuSnapshot const& vcpu)
    {
        out.begin_section("VCPU");
        put_array(out, vcpu.cpuid);
        out.blob(vcpu.regs);
        out.blob(vcpu.sregs);
        out.bytes(vcpu.xsave);
        out.blob(vcpu.xcrs);
        out.blob(vcpu.lapic);
        put_array(out, vcpu.msrs);
        out.blob(vcpu.mp_state);
        out.blob(vcpu.events);
        out.blob(vcpu.debugregs);
        out.u32(vcpu.tsc_khz);
        out.end_section();
    }

    void put_transport(StateEncoder& out, MmioTransportState const& transport)
    {
        out.u32(transport.status);
        out.u32(transport.device_features_select);
        out.u32(transport.driver_features_select);
        out.u64(transport.driver_features);
        out.u32(transport.queue_select);
        out.u32(transport.interrupt_status);
        out.boolean(transport.needs_reset);
        out.u32(transport.config_generation);
        out.u32(static_cast<uint32_t>(transport.queues.size()));
        for (auto const& queue : transport.queues) {
            out.u16(queue.size);
            out.boolean(queue.ready);
            out.u64(queue.descriptor_table);
            out.u64(queue.avail_ring);
            out.u64(queue.used_ring);
            out.u16(queue.next_avail);
            out.u16(queue.next_used);
            out.u16(queue.signalled_used);
        }
    }

    void put_optional_u8(StateEncoder& out, std::optional<uint8_t> value)
    {
        out.boolean(value.has_value());
        out.u8(value.value_or(0));
    }

    void put_body(StateEncoder& out, MachineSnapshot const& snapshot)
    {
        out.begin_section("MACH");
        out.u64(snapshot.memory_bytes);
        out.u32(static_cast<uint32_t>(snapshot.vcpus.size()));
        out.u32(static_cast<uint32_t>(snapshot.virtio.size()));
        out.u32(static_cast<uint32_t>(snapshot.regions.size()));
        for (auto const& region : snapshot.regions) {
            out.u64(region.guest_address);
            out.u64(region.size);
            out.u64(region.file_offset);
        }
        out.end_section();

        for (auto const& vcpu : snapshot.vcpus)
            put_vcpu(out, vcpu);

        out.begin_section("VMST");
        out.blob(snapshot.vm.pic_master);
        out.blob(snapshot.vm.pic_slave);
        out.blob(snapshot.vm.ioapic);
        out.blob(snapshot.vm.clock);
        out.i64(snapshot.vm.host_realtime_ns);
        out.end_section();

        auto const& serial = snapshot.serial;
        out.begin_section("SERL");
        out.u8(serial.interrupt_enable);
        out.u8(serial.line_control);
        out.u8(serial.modem_control);
        out.u8(serial.scratch);
        out.u8(serial.divisor_low);
        out.u8(serial.divisor_high);
        out.u8(serial.modem_status_deltas);
        out.boolean(serial.fifo_enabled);
        out.boolean(serial.thr_empty_pending);
        out.boolean(serial.overrun);
        out.end_section();

        out.begin_section("I842");
        out.u8(snapshot.i8042.ctr);
        put_optional_u8(out, snapshot.i8042.output);
        out.boolean(snapshot.i8042.expect_ctr);
        out.end_section();

        auto const& status = snapshot.status;
        out.begin_section("STAT");
        out.boolean(status.boot_marker_seen);
        put_optional_u8(out, status.exit_code);
        put_optional_u8(out, status.signal);
        out.u32(status.spawn_error ? static_cast<uint32_t>(*status.spawn_error) : 0);
        out.boolean(status.shutdown_intent);
        out.u32(status.invalid_writes);
        out.end_section();

        for (auto const& slot : snapshot.virtio) {
            out.begin_section("VIRT");
            out.u32(slot.device_type);
            put_transport(out, slot.transport);
            out.u64(slot.vsock_guest_cid);
            out.u32(slot.vsock_next_host_port);
            out.u64(slot.disk_size_bytes);
            out.boolean(slot.disk_read_only);
            if (is_share_slot(slot.device_type))
                put_share_slot(out, slot);
            if (is_net_slot(slot.device_type))
                out.bytes(slot.net_mac);
            out.end_section();
        }
    }

    void put_le(uint8_t* at, uint64_t value, int width)
    {
        for (int i = 0; i < width; ++i)
            at[i] = static_cast<uint8_t>(value >> (8 * i));
    }

    uint64_t get_le(uint8_t const* at, int width)
    {
        uint64_t value = 0;
        for (int i = 0; i < width; ++i)
            value |= uint64_t { at[i] } << (8 * i);
        return value;
    }

    // ---- decoding ----

    template<typename T>
    Result<std::vector<T>> get_array(StateDecoder& in, std::string_view field, uint32_t max_count)
    {
        auto count = TRY(in.u32(field));
        if (count > max_count)
            return fail("snapshot: " + std::string(field) + " has " + std::to_string(count) + " entries, at most "
                + std::to_string(max_count) + " allowed");
        std::vector<T> entries;
        entries.reserve(std::min<size_t>(count, in.remaining() / sizeof(T) + 1));
        for (uint32_t i = 0; i < count; ++i)
            entries.push_back(TRY(in.blob<T>(field)));
        return entries;
    }

    Result<VcpuSnapshot> get_vcpu(StateDecoder& body)
    {
        auto in = TRY(body.section("VCPU"));
        VcpuSnapshot vcpu;
        vcpu.cpuid = TRY(get_array<kvm_cpuid_entry2>(in, "cpuid", fmt::max_cpuid_entries));
        vcpu.regs = TRY(in.blob<kvm_regs>("regs"));
        vcpu.sregs = TRY(in.blob<kvm_sregs>("sregs"));
        vcpu.xsave = TRY(in.bytes("xsave", fmt::max_xsave_size));
        if (vcpu.xsave.size() < fmt::min_xsave_size || vcpu.xsave.size() % 4 != 0)
            return fail("snapshot: section VCPU: an xsave area of " + std::to_string(vcpu.xsave.size())
                + " bytes is impossible");
        vcpu.xcrs = TRY(in.blob<kvm_xcrs>("xcrs"));
        vcpu.lapic = TRY(in.blob<kvm_lapic_state>("lapic"));
        vcpu.msrs = TRY(get_array<kvm_msr_entry>(in, "msrs", fmt::max_msrs));
        vcpu.mp_state = TRY(in.blob<kvm_mp_state>("mp_state"));
        vcpu.events = TRY(in.blob<kvm_vcpu_events>("events"));
        vcpu.debugregs = TRY(in.blob<kvm_debugregs>("debugregs"));
        vcpu.tsc_khz = TRY(in.u32("tsc_khz"));
        TRY(in.finish());
        return vcpu;
    }

    // A NIC's own address: six bytes, unicast, not all zero (what --net-tap's mac= accepts).
    Result<std::array<uint8_t, 6>> get_net_mac(StateDecoder& in)
    {
        auto bytes = TRY(in.bytes("net_mac", 6));
        std::array<uint8_t, 6> mac {};
        if (bytes.size() != mac.size())
            return fail("snapshot: section VIRT: a MAC address of " + std::to_string(bytes.size()) + " bytes");
        std::copy(bytes.begin(), bytes.end(), mac.begin());
        if ((mac[0] & 1) != 0 || mac == std::array<uint8_t, 6> {})
            return fail("snapshot: section VIRT: the virtio-net MAC address is multicast or all zero");
        return mac;
    }

    Result<MmioTransportState> get_transport(StateDecoder& in)
    {
        MmioTransportState transport;
        transport.status = TRY(in.u32("status"));
        transport.device_features_select = TRY(in.u32("device_features_select"));
        transport.driver_features_select = TRY(in.u32("driver_features_select"));
        transport.driver_features = TRY(in.u64("driver_features"));
        transport.queue_select = TRY(in.u32("queue_select"));
        transport.interrupt_status = TRY(in.u32("interrupt_status"));
        transport.needs_reset = TRY(in.boolean("needs_reset"));
        transport.config_generation = TRY(in.u32("config_generation"));
        auto queue_count = TRY(in.u32("queue count"));
        if (queue_count > fmt::max_queues)
            return fail("snapshot: a virtio device has " + std::to_string(queue_count) + " queues, at most "
                + std::to_string(fmt::max_queues) + " allowed");
        for (uint32_t i = 0; i < queue_count; ++i) {
            MmioQueueState queue;
            queue.size = TRY(in.u16("queue size"));
            queue.ready = TRY(in.boolean("queue ready"));
            queue.descriptor_table = TRY(in.u64("queue descriptor table"));
            queue.avail_ring = TRY(in.u64("queue available ring"));
            queue.used_ring = TRY(in.u64("queue used ring"));
            queue.next_avail = TRY(in.u16("queue next avail"));
            queue.next_used = TRY(in.u16("queue next used"));
            queue.signalled_used = TRY(in.u16("queue signalled used"));
            transport.queues.push_back(queue);
        }
        return transport;
    }

    Result<std::optional<uint8_t>> get_optional_u8(StateDecoder& in, std::string_view field)
    {
        bool present = TRY(in.boolean(field));
        uint8_t value = TRY(in.u8(field));
        if (!present)
            return std::optional<uint8_t> {};
        return std::optional<uint8_t> { value };
    }

    Result<void> check_expectations(uint64_t memory_bytes, uint32_t vcpus, SnapshotExpectations const& expected)
    {
        if (expected.vcpus && *expected.vcpus != vcpus)
            return fail("the snapshot has " + std::to_string(vcpus) + " vCPUs but " + std::to_string(*expected.vcpus)
                + " were asked for");
        if (expected.memory_bytes && *expected.memory_bytes != memory_bytes)
            return fail("the snapshot has " + std::to_string(memory_bytes >> 20) + " MiB of guest memory but "
                + std::to_string(*expected.memory_bytes >> 20) + " MiB were asked for");
        return {};
    }

    Result<MachineSnapshot> get_body(StateDecoder& body, SnapshotExpectations const& expected)
    {
        MachineSnapshot snapshot;
        auto machine = TRY(body.section("MACH"));
        snapshot.memory_bytes = TRY(machine.u64("memory_bytes"));
        auto vcpu_count = TRY(machine.u32("vcpu count"));
        auto slot_count = TRY(machine.u32("virtio slot count"));
        auto region_count = TRY(machine.u32("region count"));
        if (vcpu_count == 0 || vcpu_count > fmt::max_vcpus)
            return fail(
                "snapshot: " + std::to_string(vcpu_count) + " vCPUs; a VM has 1 to " + std::to_string(fmt::max_vcpus));
        if (slot_count > fmt::max_virtio_slots)
            return fail("snapshot: " + std::to_string(slot_count) + " virtio slots; at most "
                + std::to_string(fmt::max_virtio_slots));
        if (region_count == 0 || region_count > fmt::max_regions)
            return fail("snapshot: " + std::to_string(region_count) + " memory regions; 1 to "
                + std::to_string(fmt::max_regions) + " allowed");
        uint64_t region_total = 0;
        for (uint32_t i = 0; i < region_count; ++i) {
            MemoryRegionSnapshot region;
            region.guest_address = TRY(machine.u64("region guest address"));
            region.size = TRY(machine.u64("region size"));
            region.file_offset = TRY(machine.u64("region file offset"));
            if (region.file_offset != region_total)
                return fail("snapshot: memory region " + std::to_string(i) + " is at file offset "
                    + std::to_string(region.file_offset) + ", expected " + std::to_string(region_total));
            if (region.size == 0 || region.size > snapshot.memory_bytes - region_total)
                return fail("snapshot: the memory regions do not add up to the memory size");
            region_total += region.size;
            snapshot.regions.push_back(region);
        }
        if (region_total != snapshot.memory_bytes)
            return fail("snapshot: the memory regions hold " + std::to_string(region_total)
                + " bytes, the memory size is " + std::to_string(snapshot.memory_bytes));
        TRY(machine.finish());
        TRY(check_expectations(snapshot.memory_bytes, vcpu_count, expected));

        for (uint32_t i = 0; i < vcpu_count; ++i)
            snapshot.vcpus.push_back(TRY_CONTEXT(get_vcpu(body), "vCPU " + std::to_string(i)));

        auto vm = TRY(body.section("VMST"));
        snapshot.vm.pic_master = TRY(vm.blob<kvm_irqchip>("pic_master"));
        snapshot.vm.pic_slave = TRY(vm.blob<kvm_irqchip>("pic_slave"));
        snapshot.vm.ioapic = TRY(vm.blob<kvm_irqchip>("ioapic"));
        snapshot.vm.clock = TRY(vm.blob<kvm_clock_data>("clock"));
        snapshot.vm.host_realtime_ns = TRY(vm.i64("host_realtime_ns"));
        TRY(vm.finish());

        auto serial_in = TRY(body.section("SERL"));
        auto& serial = snapshot.serial;
        serial.interrupt_enable = TRY(serial_in.u8("interrupt_enable"));
        serial.line_control = TRY(serial_in.u8("line_control"));
        serial.modem_control = TRY(serial_in.u8("modem_control"));
        serial.scratch = TRY(serial_in.u8("scratch"));
        serial.divisor_low = TRY(serial_in.u8("divisor_low"));
        serial.divisor_high = TRY(serial_in.u8("divisor_high"));
        serial.modem_status_deltas = TRY(serial_in.u8("modem_status_deltas"));
        serial.fifo_enabled = TRY(serial_in.boolean("fifo_enabled"));
        serial.thr_empty_pending = TRY(serial_in.boolean("thr_empty_pending"));
        serial.overrun = TRY(serial_in.boolean("overrun"));
        TRY(serial_in.finish());

        auto i8042 = TRY(body.section("I842"));
        snapshot.i8042.ctr = TRY(i8042.u8("ctr"));
        snapshot.i8042.output = TRY(get_optional_u8(i8042, "output"));
        snapshot.i8042.expect_ctr = TRY(i8042.boolean("expect_ctr"));
        TRY(i8042.finish());

        auto status_in = TRY(body.section("STAT"));
        auto& status = snapshot.status;
        status.boot_marker_seen = TRY(status_in.boolean("boot_marker_seen"));
        status.exit_code = TRY(get_optional_u8(status_in, "exit_code"));
        status.signal = TRY(get_optional_u8(status_in, "signal"));
        auto spawn_error = TRY(status_in.u32("spawn_error"));
        if (spawn_error > status_port::spawn_error_max)
            return fail("snapshot: section STAT: unknown spawn error " + std::to_string(spawn_error));
        if (spawn_error != 0)
            status.spawn_error = static_cast<status_port::SpawnError>(spawn_error);
        status.shutdown_intent = TRY(status_in.boolean("shutdown_intent"));
        status.invalid_writes = TRY(status_in.u32("invalid_writes"));
        TRY(status_in.finish());

        for (uint32_t i = 0; i < slot_count; ++i) {
            auto slot_in = TRY(body.section("VIRT"));
            VirtioSlotSnapshot slot;
            slot.device_type = TRY(slot_in.u32("device_type"));
            slot.transport = TRY_CONTEXT(get_transport(slot_in), "virtio slot " + std::to_string(i));
            slot.vsock_guest_cid = TRY(slot_in.u64("vsock_guest_cid"));
            slot.vsock_next_host_port = TRY(slot_in.u32("vsock_next_host_port"));
            slot.disk_size_bytes = TRY(slot_in.u64("disk_size_bytes"));
            slot.disk_read_only = TRY(slot_in.boolean("disk_read_only"));
            if (is_share_slot(slot.device_type))
                TRY(get_share_slot(slot_in, slot));
            if (is_net_slot(slot.device_type))
                slot.net_mac = TRY(get_net_mac(slot_in));
            TRY(slot_in.finish());
            snapshot.virtio.push_back(std::move(slot));
        }
        TRY(body.finish());
        return snapshot;
    }
} // namespace

std::vector<uint8_t> encode_snapshot(MachineSnapshot const& snapshot)
{
    StateEncoder body;
    put_body(body, snapshot);
    auto const& bytes = body.data();
    std::vector<uint8_t> file(fmt::header_size);
    std::memcpy(file.data(), fmt::magic, sizeof fmt::magic);
    put_le(file.data() + 8, fmt::version, 4);
    put_le(file.data() + 12, 0, 4); // reserved
    put_le(file.data() + 16, bytes.size(), 8);
    put_le(file.data() + 24, crc32c(bytes), 4);
    put_le(file.data() + 28, 0, 4); // reserved
    file.insert(file.end(), bytes.begin(), bytes.end());
    return file;
}

Result<MachineSnapshot> decode_snapshot(std::span<uint8_t const> file, SnapshotExpectations const& expected)
{
    if (file.size() < sizeof fmt::magic || std::memcmp(file.data(), fmt::magic, sizeof fmt::magic) != 0)
        return fail("not a husk snapshot state file (wrong magic)");
    if (file.size() < fmt::header_size)
        return fail("the snapshot state file is truncated: " + std::to_string(file.size()) + " bytes, shorter than its "
            + std::to_string(fmt::header_size) + "-byte header");
    auto version = static_cast<uint32_t>(get_le(file.data() + 8, 4));
    if (version != fmt::version)
        return fail("the snapshot state file has format version " + std::to_string(version)
            + "; this husk reads only version " + std::to_string(fmt::version)
            + " (take the snapshot again with this build)");
    uint64_t body_size = get_le(file.data() + 16, 8);
    uint64_t available = file.size() - fmt::header_size;
    if (body_size > fmt::max_body_size)
        return fail("the snapshot state file claims a body of " + std::to_string(body_size) + " bytes, more than "
            + std::to_string(fmt::max_body_size));
    if (body_size > available)
        return fail("the snapshot state file is truncated: its body has " + std::to_string(available) + " of "
            + std::to_string(body_size) + " bytes");
    if (body_size < available)
        return fail("the snapshot state file has " + std::to_string(available - body_size)
            + " unexpected bytes after its body");
    auto body_bytes = file.subspan(fmt::header_size);
    auto stored_crc = static_cast<uint32_t>(get_le(file.data() + 24, 4));
    if (crc32c(body_bytes) != stored_crc)
        return fail("the snapshot state file is corrupt: its checksum does not match its contents");
    StateDecoder body(body_bytes, "snapshot body");
    return get_body(body, expected);
}

} // namespace husk
