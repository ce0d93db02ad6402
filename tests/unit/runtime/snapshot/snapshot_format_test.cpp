// The snapshot state file: every field survives a round trip, and every kind of damage is
// refused with one line that says what is wrong.
#include "runtime/snapshot/crc32c.hpp"
#include "runtime/snapshot/snapshot_format.hpp"

#include <array>
#include <cstring>
#include <gtest/gtest.h>
#include <string>

namespace husk {
namespace {

    namespace fmt = snapshot_format;

    template<typename T>
    void fill_pattern(T& object, uint8_t seed)
    {
        auto* bytes = reinterpret_cast<uint8_t*>(&object);
        for (size_t i = 0; i < sizeof(T); ++i)
            bytes[i] = static_cast<uint8_t>(seed + i * 7);
    }

    MachineSnapshot sample_snapshot(unsigned vcpus = 2)
    {
        MachineSnapshot snapshot;
        snapshot.memory_bytes = 256ull << 20;
        snapshot.regions = { { 0, 256ull << 20, 0 } };
        for (unsigned i = 0; i < vcpus; ++i) {
            VcpuSnapshot vcpu;
            kvm_cpuid_entry2 leaf;
            fill_pattern(leaf, static_cast<uint8_t>(10 + i));
            vcpu.cpuid = { leaf, leaf };
            fill_pattern(vcpu.regs, static_cast<uint8_t>(20 + i));
            fill_pattern(vcpu.sregs, static_cast<uint8_t>(30 + i));
            vcpu.xsave.assign(4096, static_cast<uint8_t>(40 + i));
            fill_pattern(vcpu.xcrs, static_cast<uint8_t>(50 + i));
            fill_pattern(vcpu.lapic, static_cast<uint8_t>(60 + i));
            vcpu.msrs = { { 0x10, 0, 12345 }, { 0x4b564d01, 0, 0xfeedull << 32 } };
            vcpu.mp_state.mp_state = KVM_MP_STATE_HALTED;
            fill_pattern(vcpu.events, static_cast<uint8_t>(70 + i));
            fill_pattern(vcpu.debugregs, static_cast<uint8_t>(80 + i));
            vcpu.tsc_khz = 2'000'000 + i;
            snapshot.vcpus.push_back(vcpu);
        }
        fill_pattern(snapshot.vm.pic_master, 1);
        fill_pattern(snapshot.vm.pic_slave, 2);
        fill_pattern(snapshot.vm.ioapic, 3);
        fill_pattern(snapshot.vm.clock, 5);
        snapshot.vm.host_realtime_ns = 1'700'000'000'123'456'789;
        snapshot.serial = { 1, 3, 8, 0x55, 1, 0, 0x0b, true, true, false };
        snapshot.i8042 = { 0x47, uint8_t { 0x55 }, true };
        snapshot.status = { true, uint8_t { 3 }, std::nullopt, status_port::SpawnError::NotFound, true, 2 };
        VirtioSlotSnapshot vsock;
        vsock.device_type = 19;
        vsock.transport.status = 0xf;
        vsock.transport.driver_features = 1ull << 32;
        vsock.transport.queue_select = 2;
        vsock.transport.interrupt_status = 1;
        vsock.transport.config_generation = 4;
        for (uint16_t q = 0; q < 3; ++q)
            vsock.transport.queues.push_back(
                { 256, true, 0x1000u + q * 0x10000u, 0x2000u + q * 0x10000u, 0x3000u + q * 0x10000u,
                    static_cast<uint16_t>(65530 + q), static_cast<uint16_t>(7 + q), static_cast<uint16_t>(5 + q) });
        vsock.vsock_guest_cid = 42;
        vsock.vsock_next_host_port = (1u << 30) + 7;
        VirtioSlotSnapshot disk;
        disk.device_type = 2;
        disk.transport.queues.push_back({});
        disk.disk_size_bytes = 1ull << 30;
        disk.disk_read_only = true;
        snapshot.virtio = { vsock, disk };
        return snapshot;
    }

    // Rewrites the header's checksum after a test changed the body on purpose.
    void reseal(std::vector<uint8_t>& file)
    {
        uint32_t crc = crc32c(std::span(file).subspan(fmt::header_size));
        for (int i = 0; i < 4; ++i)
            file[24 + static_cast<size_t>(i)] = static_cast<uint8_t>(crc >> (8 * i));
    }

    void set_body_size(std::vector<uint8_t>& file, uint64_t size)
    {
        for (int i = 0; i < 8; ++i)
            file[16 + static_cast<size_t>(i)] = static_cast<uint8_t>(size >> (8 * i));
    }

    std::string decode_error(std::vector<uint8_t> const& file, SnapshotExpectations const& expected = {})
    {
        auto decoded = decode_snapshot(file, expected);
        EXPECT_FALSE(decoded.has_value());
        if (decoded)
            return {};
        EXPECT_EQ(decoded.error().message.find('\n'), std::string::npos) << decoded.error().message;
        return decoded.error().message;
    }

    template<typename T>
    bool same_bytes(T const& a, T const& b)
    {
        return std::memcmp(&a, &b, sizeof(T)) == 0;
    }

} // namespace

TEST(Crc32c, KnownVector_MatchesTheStandardCheckValue)
{
    std::string text = "123456789";
    EXPECT_EQ(crc32c(std::span(reinterpret_cast<uint8_t const*>(text.data()), text.size())), 0xe306'9283u);
}

TEST(SnapshotFormat, RoundTrip_KeepsEveryField)
{
    auto original = sample_snapshot();
    auto file = encode_snapshot(original);
    auto decoded = decode_snapshot(file);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().message;

    EXPECT_EQ(decoded->memory_bytes, original.memory_bytes);
    ASSERT_EQ(decoded->regions.size(), 1u);
    EXPECT_EQ(decoded->regions[0].size, original.regions[0].size);
    ASSERT_EQ(decoded->vcpus.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
        auto const& a = original.vcpus[i];
        auto const& b = decoded->vcpus[i];
        ASSERT_EQ(b.cpuid.size(), a.cpuid.size());
        EXPECT_TRUE(same_bytes(a.cpuid[1], b.cpuid[1]));
        EXPECT_TRUE(same_bytes(a.regs, b.regs));
        EXPECT_TRUE(same_bytes(a.sregs, b.sregs));
        EXPECT_EQ(a.xsave, b.xsave);
        EXPECT_TRUE(same_bytes(a.xcrs, b.xcrs));
        EXPECT_TRUE(same_bytes(a.lapic, b.lapic));
        ASSERT_EQ(b.msrs.size(), 2u);
        EXPECT_EQ(b.msrs[1].index, 0x4b564d01u);
        EXPECT_EQ(b.msrs[1].data, 0xfeedull << 32);
        EXPECT_EQ(b.mp_state.mp_state, static_cast<uint32_t>(KVM_MP_STATE_HALTED));
        EXPECT_TRUE(same_bytes(a.events, b.events));
        EXPECT_TRUE(same_bytes(a.debugregs, b.debugregs));
        EXPECT_EQ(a.tsc_khz, b.tsc_khz);
    }
    EXPECT_TRUE(same_bytes(original.vm.pic_master, decoded->vm.pic_master));
    EXPECT_TRUE(same_bytes(original.vm.pic_slave, decoded->vm.pic_slave));
    EXPECT_TRUE(same_bytes(original.vm.ioapic, decoded->vm.ioapic));
    EXPECT_TRUE(same_bytes(original.vm.clock, decoded->vm.clock));
    EXPECT_EQ(decoded->vm.host_realtime_ns, original.vm.host_realtime_ns);
    EXPECT_EQ(decoded->serial.scratch, 0x55);
    EXPECT_EQ(decoded->serial.modem_status_deltas, 0x0b);
    EXPECT_TRUE(decoded->serial.thr_empty_pending);
    EXPECT_EQ(decoded->i8042.ctr, 0x47);
    EXPECT_EQ(decoded->i8042.output, std::optional<uint8_t>(0x55));
    EXPECT_TRUE(decoded->i8042.expect_ctr);
    EXPECT_TRUE(decoded->status.boot_marker_seen);
    EXPECT_EQ(decoded->status.exit_code, std::optional<uint8_t>(3));
    EXPECT_FALSE(decoded->status.signal.has_value());
    EXPECT_EQ(decoded->status.spawn_error, status_port::SpawnError::NotFound);
    EXPECT_EQ(decoded->status.invalid_writes, 2u);
    ASSERT_EQ(decoded->virtio.size(), 2u);
    auto const& vsock = decoded->virtio[0];
    EXPECT_EQ(vsock.device_type, 19u);
    EXPECT_EQ(vsock.vsock_guest_cid, 42u);
    EXPECT_EQ(vsock.vsock_next_host_port, (1u << 30) + 7);
    EXPECT_EQ(vsock.transport.status, 0xfu);
    EXPECT_EQ(vsock.transport.driver_features, 1ull << 32);
    EXPECT_EQ(vsock.transport.queue_select, 2u);
    EXPECT_EQ(vsock.transport.interrupt_status, 1u);
    EXPECT_EQ(vsock.transport.config_generation, 4u);
    ASSERT_EQ(vsock.transport.queues.size(), 3u);
    EXPECT_EQ(vsock.transport.queues[2].next_avail, 65532);
    EXPECT_EQ(vsock.transport.queues[2].next_used, 9);
    EXPECT_EQ(vsock.transport.queues[2].signalled_used, 7);
    EXPECT_EQ(vsock.transport.queues[1].avail_ring, 0x12000u);
    EXPECT_EQ(decoded->virtio[1].disk_size_bytes, 1ull << 30);
    EXPECT_TRUE(decoded->virtio[1].disk_read_only);
    EXPECT_EQ(encode_snapshot(*decoded), file);
}

TEST(SnapshotFormat, WrongMagic_IsRefused)
{
    auto file = encode_snapshot(sample_snapshot());
    file[0] = 'X';
    EXPECT_NE(decode_error(file).find("wrong magic"), std::string::npos);
    EXPECT_NE(decode_error({}).find("wrong magic"), std::string::npos);
}

TEST(SnapshotFormat, OtherVersion_IsRefusedNamingBoth)
{
    auto file = encode_snapshot(sample_snapshot());
    file[8] = fmt::version + 1;
    auto message = decode_error(file);
    EXPECT_NE(message.find("format version " + std::to_string(fmt::version + 1)), std::string::npos) << message;
    EXPECT_NE(message.find("only version " + std::to_string(fmt::version)), std::string::npos) << message;
}

TEST(SnapshotFormat, FlippedBodyByte_FailsTheChecksum)
{
    auto file = encode_snapshot(sample_snapshot());
    file[fmt::header_size + 100] ^= 0x01;
    EXPECT_NE(decode_error(file).find("checksum"), std::string::npos);
}

TEST(SnapshotFormat, TruncatedFile_IsRefusedAtEveryLength)
{
    auto file = encode_snapshot(sample_snapshot());
    for (size_t length :
        { size_t { 8 }, size_t { 20 }, fmt::header_size, fmt::header_size + 1, file.size() / 2, file.size() - 1 }) {
        std::vector<uint8_t> cut(file.begin(), file.begin() + static_cast<ptrdiff_t>(length));
        EXPECT_NE(decode_error(cut).find("truncated"), std::string::npos) << length;
    }
}

TEST(SnapshotFormat, TrailingBytes_AreRefused)
{
    auto file = encode_snapshot(sample_snapshot());
    file.push_back(0);
    EXPECT_NE(decode_error(file).find("unexpected bytes"), std::string::npos);
}

TEST(SnapshotFormat, HugeBodyLength_IsRefusedBeforeReading)
{
    auto file = encode_snapshot(sample_snapshot());
    set_body_size(file, 1ull << 40);
    EXPECT_NE(decode_error(file).find("claims a body"), std::string::npos);
}

TEST(SnapshotFormat, OtherVcpuCount_IsRefused)
{
    auto file = encode_snapshot(sample_snapshot(2));
    auto message = decode_error(file, { 1u, std::nullopt });
    EXPECT_NE(message.find("has 2 vCPUs but 1"), std::string::npos) << message;
}

TEST(SnapshotFormat, OtherMemorySize_IsRefused)
{
    auto file = encode_snapshot(sample_snapshot());
    auto message = decode_error(file, { std::nullopt, 512ull << 20 });
    EXPECT_NE(message.find("256 MiB of guest memory but 512 MiB"), std::string::npos) << message;
}

TEST(SnapshotFormat, MatchingExpectations_AreAccepted)
{
    auto file = encode_snapshot(sample_snapshot(2));
    EXPECT_TRUE(decode_snapshot(file, { 2u, 256ull << 20 }).has_value());
}

TEST(SnapshotFormat, StructOfTheWrongSize_IsRefusedEvenWithAValidChecksum)
{
    // The regs blob's length field sits after the MACH section, the VCPU header and the cpuid
    // array; change it to one byte less.
    auto file = encode_snapshot(sample_snapshot(1));
    size_t mach = fmt::header_size + 8 + (8 + 4 + 4 + 4 + 24);
    size_t cpuid_array = mach + 8 + 4 + 2 * (4 + sizeof(kvm_cpuid_entry2));
    ASSERT_EQ(file[cpuid_array], sizeof(kvm_regs) & 0xff);
    file[cpuid_array] -= 1;
    reseal(file);
    auto message = decode_error(file);
    EXPECT_NE(message.find("regs has 143 bytes, expected 144"), std::string::npos) << message;
}

TEST(SnapshotFormat, MisnamedSection_IsRefusedNamingIt)
{
    auto file = encode_snapshot(sample_snapshot());
    std::memcpy(file.data() + fmt::header_size, "MACX", 4);
    reseal(file);
    auto message = decode_error(file);
    EXPECT_NE(message.find("expected section MACH, found \"MACX\""), std::string::npos) << message;
}

TEST(SnapshotFormat, RegionsNotAddingUp_AreRefused)
{
    auto snapshot = sample_snapshot();
    snapshot.regions[0].size = 128ull << 20;
    auto message = decode_error(encode_snapshot(snapshot));
    EXPECT_NE(message.find("memory regions hold"), std::string::npos) << message;
}

TEST(SnapshotFormat, NonBooleanFlag_IsRefused)
{
    auto snapshot = sample_snapshot();
    auto file = encode_snapshot(snapshot);
    // The last byte of the body is the last slot's disk_read_only flag.
    file.back() = 2;
    reseal(file);
    auto message = decode_error(file);
    EXPECT_NE(message.find("disk_read_only is 2"), std::string::npos) << message;
}

TEST(SnapshotFormat, ZeroVcpus_AreRefused)
{
    auto snapshot = sample_snapshot();
    snapshot.vcpus.clear();
    EXPECT_NE(decode_error(encode_snapshot(snapshot)).find("0 vCPUs"), std::string::npos);
}

} // namespace husk

// ---- virtio-net slots: the MAC the guest's eth0 has, which a restore keeps ----

namespace husk {
namespace {
    constexpr std::array<uint8_t, 6> sample_mac { 0x02, 0x12, 0x34, 0x56, 0x78, 0x9a };

    // The sample with a virtio-net slot last, so its MAC ends the body: a u32 length, 6 bytes.
    MachineSnapshot sample_with_net(std::array<uint8_t, 6> mac = sample_mac)
    {
        auto snapshot = sample_snapshot();
        VirtioSlotSnapshot net;
        net.device_type = 1;
        net.transport.status = 0xf;
        net.transport.queues
            = { { 256, true, 0x5000, 0x6000, 0x7000, 3, 2, 2 }, { 256, true, 0x8000, 0x9000, 0xa000, 9, 9, 9 } };
        net.net_mac = mac;
        snapshot.virtio.push_back(net);
        return snapshot;
    }

    constexpr size_t mac_length_from_end = 4 + 6;
} // namespace

TEST(SnapshotFormat, NetSlot_RoundTripKeepsItsMac)
{
    auto file = encode_snapshot(sample_with_net());
    auto decoded = decode_snapshot(file);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
    ASSERT_EQ(decoded->virtio.size(), 3u);
    EXPECT_EQ(decoded->virtio[2].device_type, 1u);
    EXPECT_EQ(decoded->virtio[2].net_mac, sample_mac);
    EXPECT_EQ(decoded->virtio[2].transport.queues[0].next_avail, 3);
    EXPECT_EQ(encode_snapshot(*decoded), file);
}

TEST(SnapshotFormat, NetSlot_ShortMac_IsRefused)
{
    auto file = encode_snapshot(sample_with_net());
    size_t length_at = file.size() - mac_length_from_end;
    ASSERT_EQ(file[length_at], 6);
    file[length_at] = 5; // the sixth byte is then left over
    reseal(file);
    auto message = decode_error(file);
    EXPECT_NE(message.find("a MAC address of 5 bytes"), std::string::npos) << message;
}

TEST(SnapshotFormat, NetSlot_LongMac_IsRefusedBeforeReading)
{
    auto file = encode_snapshot(sample_with_net());
    file[file.size() - mac_length_from_end] = 7;
    reseal(file);
    auto message = decode_error(file);
    EXPECT_NE(message.find("net_mac has 7 bytes, at most 6"), std::string::npos) << message;
}

TEST(SnapshotFormat, NetSlot_MulticastOrZeroMac_IsRefused)
{
    auto multicast = decode_error(encode_snapshot(sample_with_net({ 0x03, 1, 2, 3, 4, 5 })));
    EXPECT_NE(multicast.find("multicast or all zero"), std::string::npos) << multicast;
    auto zero = decode_error(encode_snapshot(sample_with_net({})));
    EXPECT_NE(zero.find("multicast or all zero"), std::string::npos) << zero;
}

TEST(SnapshotFormat, NetSlot_MissingMac_IsRefusedAsTruncated)
{
    // A net slot written without its MAC (as if by a build that had none): the section ends early.
    auto snapshot = sample_with_net();
    auto file = encode_snapshot(snapshot);
    snapshot.virtio.back().device_type = 2; // a disk's fields, same length up to the MAC
    auto without = encode_snapshot(snapshot);
    // Make the shorter file claim the net device type again: the last VIRT tag, its length, the type.
    std::string body(without.begin(), without.end());
    size_t type_at = body.rfind("VIRT") + 4 + 4;
    ASSERT_EQ(without[type_at], 2);
    without[type_at] = 1;
    reseal(without);
    auto message = decode_error(without);
    EXPECT_NE(message.find("net_mac"), std::string::npos) << message;
    EXPECT_EQ(file.size(), without.size() + mac_length_from_end);
}

} // namespace husk
