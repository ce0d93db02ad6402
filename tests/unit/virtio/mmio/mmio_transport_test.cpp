// MmioTransport: register map, status state machine, feature negotiation, queue setup and its
// freezing, access widths, reset, and NEEDS_RESET on activation failures. A fake device records
// what the transport asks of it; MockDriver plays the guest.
#include "virtio/mmio/mmio_transport.hpp"

#include "tests/unit/virtio/testing/device_test.hpp"
#include "virtio/mmio/mmio_registers.hpp"
#include "virtio/testing/counting_interrupt_trigger.hpp"
#include "virtio/testing/mock_driver.hpp"

#include <array>
#include <gtest/gtest.h>
#include <memory>

using namespace husk;
namespace mmio = husk::virtio::mmio;
namespace status = husk::virtio::status;

namespace {

constexpr unsigned device_feature_low = 5;
constexpr unsigned device_feature_high = 35;

class FakeDevice final : public VirtioDevice {
public:
    virtio::DeviceType device_type() const override { return virtio::DeviceType::Block; }
    uint64_t features() const override
    {
        return virtio::feature_mask(device_feature_low) | virtio::feature_mask(device_feature_high)
            | virtio::feature_mask(virtio::feature::event_idx);
    }
    uint16_t queue_count() const override { return 2; }
    uint16_t queue_max_size(uint16_t index) const override { return index == 0 ? max_size_0 : 8; }
    void read_config(uint64_t offset, std::span<uint8_t> data) const override { copy_config(config, offset, data); }
    void write_config(uint64_t offset, std::span<uint8_t const> data) override
    {
        for (size_t i = 0; i < data.size() && offset + i < config.size(); ++i)
            config[offset + i] = data[i];
    }
    Result<void> activate(
        GuestMemory&, std::span<SplitQueue> queues, VirtioInterrupt& interrupt, uint64_t features) override
    {
        ++activations;
        if (refuse_activation)
            return fail("fake device refuses");
        active_queues = queues;
        active_interrupt = &interrupt;
        negotiated = features;
        return {};
    }
    void reset() override
    {
        ++resets;
        active_queues = {};
        active_interrupt = nullptr;
    }
    void queue_notify(uint16_t index) override { notified.push_back(index); }

    uint16_t max_size_0 { 16 };
    std::array<uint8_t, 8> config { 1, 2, 3, 4, 5, 6, 7, 8 };
    bool refuse_activation { false };
    int activations { 0 };
    int resets { 0 };
    uint64_t negotiated { 0 };
    std::span<SplitQueue> active_queues;
    VirtioInterrupt* active_interrupt { nullptr };
    std::vector<uint16_t> notified;
};

constexpr uint64_t version_1 = virtio::feature_mask(virtio::feature::version_1);
constexpr std::array<uint16_t, 2> queue_sizes { 16, 8 };

class MmioTransportTest : public husk::testing::DeviceTest {
protected:
    void SetUp() override { attach(device, 0x100000); }
    uint32_t reg(uint64_t offset) { return driver->read_register(offset); }
    void set(uint64_t offset, uint32_t value) { driver->write_register(offset, value); }

    FakeDevice device;
};

TEST_F(MmioTransportTest, MmioTransport_IdentityRegisters_ReadSpecValues)
{
    EXPECT_EQ(reg(mmio::magic_value), 0x74726976u);
    EXPECT_EQ(reg(mmio::version), 2u);
    EXPECT_EQ(reg(mmio::device_id), 2u);
    EXPECT_EQ(reg(mmio::vendor_id), mmio::vendor_husk);
}

TEST_F(MmioTransportTest, MmioTransport_DeviceFeatures_OfferDeviceBitsAndVersion1)
{
    EXPECT_EQ(driver->device_features(), device.features() | version_1);
    set(mmio::device_features_sel, 2);
    EXPECT_EQ(reg(mmio::device_features), 0u);
}

TEST_F(MmioTransportTest, MmioTransport_FullSequence_ActivatesDeviceWithNegotiatedQueues)
{
    uint64_t wanted = virtio::feature_mask(device_feature_high) | virtio::feature_mask(virtio::feature::indirect_desc);
    ASSERT_TRUE(driver->start(wanted, queue_sizes));

    EXPECT_TRUE(transport->is_activated());
    EXPECT_EQ(driver->status(), status::acknowledge | status::driver | status::features_ok | status::driver_ok);
    EXPECT_EQ(device.activations, 1);
    // INDIRECT_DESC was not offered, so the driver dropped it.
    EXPECT_EQ(device.negotiated, virtio::feature_mask(device_feature_high) | version_1);
    ASSERT_EQ(device.active_queues.size(), 2u);
    EXPECT_TRUE(device.active_queues[0].is_ready());
    EXPECT_EQ(device.active_queues[0].size(), 16);
    EXPECT_EQ(device.active_queues[0].layout().used_ring, driver->queue(0).layout().used_ring);
    EXPECT_EQ(device.active_queues[1].size(), 8);
}

TEST_F(MmioTransportTest, MmioTransport_UnusedQueue_IsHandedOverInert)
{
    ASSERT_TRUE(driver->negotiate(0));
    ASSERT_TRUE(driver->setup_queue(0, 16));
    ASSERT_TRUE(driver->driver_ok());
    ASSERT_EQ(device.active_queues.size(), 2u);
    EXPECT_FALSE(device.active_queues[1].is_ready());
}

TEST_F(MmioTransportTest, MmioTransport_FeatureNeverOffered_LeavesFeaturesOkClear)
{
    auto result = driver->negotiate_exactly(version_1 | virtio::feature_mask(7));

    EXPECT_FALSE(result);
    EXPECT_EQ(driver->status(), status::acknowledge | status::driver);
    // The device cannot be started on a refused set.
    set(mmio::status, status::acknowledge | status::driver | status::features_ok | status::driver_ok);
    EXPECT_FALSE(transport->is_activated());
}

TEST_F(MmioTransportTest, MmioTransport_Version1NotAccepted_LeavesFeaturesOkClear)
{
    EXPECT_FALSE(driver->negotiate_exactly(virtio::feature_mask(device_feature_low)));
    EXPECT_EQ(driver->status() & status::features_ok, 0u);
}

TEST_F(MmioTransportTest, MmioTransport_DriverFeaturesAfterFeaturesOk_AreIgnored)
{
    ASSERT_TRUE(driver->negotiate_exactly(version_1));
    set(mmio::driver_features_sel, 0);
    set(mmio::driver_features, virtio::feature_mask(device_feature_low));
    ASSERT_TRUE(driver->setup_queue(0, 16));
    ASSERT_TRUE(driver->driver_ok());

    EXPECT_EQ(device.negotiated, version_1);
    EXPECT_GE(transport->stats().ignored_writes, 1u);
}

TEST_F(MmioTransportTest, MmioTransport_QueueSelOutOfRange_ReadsMaxZeroAndIgnoresWrites)
{
    ASSERT_TRUE(driver->negotiate(0));
    set(mmio::queue_sel, 2);
    EXPECT_EQ(reg(mmio::queue_num_max), 0u);
    auto ignored_before = transport->stats().ignored_writes;

    set(mmio::queue_num, 4);
    set(mmio::queue_ready, 1);

    EXPECT_EQ(reg(mmio::queue_ready), 0u);
    EXPECT_EQ(transport->stats().ignored_writes, ignored_before + 2);
    set(mmio::queue_sel, 0xffffffff);
    EXPECT_EQ(reg(mmio::queue_num_max), 0u);
}

TEST_F(MmioTransportTest, MmioTransport_QueueWritesAfterDriverOk_AreIgnored)
{
    ASSERT_TRUE(driver->start(0, queue_sizes));
    auto layout = device.active_queues[0].layout();

    set(mmio::queue_sel, 0);
    set(mmio::queue_ready, 0);
    set(mmio::queue_num, 4);
    set(mmio::queue_desc_low, 0x8000);
    set(mmio::queue_driver_low, 0x9000);
    set(mmio::queue_device_low, 0xa000);

    EXPECT_EQ(reg(mmio::queue_ready), 1u);
    EXPECT_EQ(device.active_queues[0].size(), layout.size);
    EXPECT_EQ(device.active_queues[0].layout().descriptor_table, layout.descriptor_table);
    EXPECT_EQ(transport->stats().ignored_writes, 5u);
}

TEST_F(MmioTransportTest, MmioTransport_QueueWritesBeforeFeaturesOk_AreIgnored)
{
    set(mmio::status, status::acknowledge);
    set(mmio::status, status::acknowledge | status::driver);
    set(mmio::queue_sel, 0);
    set(mmio::queue_num, 16);
    set(mmio::queue_ready, 1);
    EXPECT_EQ(reg(mmio::queue_ready), 0u);
}

TEST_F(MmioTransportTest, MmioTransport_BadRegisterWidths_AreIgnoredAndCounted)
{
    std::array<uint8_t, 2> narrow { 0xff, 0xff };
    transport->read(mmio::magic_value, narrow);
    EXPECT_EQ(narrow, (std::array<uint8_t, 2> { 0, 0 }));

    std::array<uint8_t, 4> word { 0xff, 0xff, 0xff, 0xff };
    transport->read(mmio::magic_value + 1, word); // unaligned
    EXPECT_EQ(word, (std::array<uint8_t, 4> { 0, 0, 0, 0 }));

    std::array<uint8_t, 8> wide { status::acknowledge };
    transport->write(mmio::status, wide);
    EXPECT_EQ(driver->status(), 0u);

    std::array<uint8_t, 1> byte { status::acknowledge };
    transport->write(mmio::status, byte);
    EXPECT_EQ(driver->status(), 0u);

    EXPECT_EQ(transport->stats().bad_width, 4u);
}

TEST_F(MmioTransportTest, MmioTransport_ConfigSpace_Accepts1_2_4ByteAccessesOnly)
{
    std::array<uint8_t, 1> one {};
    transport->read(mmio::config + 2, one);
    EXPECT_EQ(one[0], 3);
    std::array<uint8_t, 2> two {};
    transport->read(mmio::config + 6, two);
    EXPECT_EQ(two, (std::array<uint8_t, 2> { 7, 8 }));
    std::array<uint8_t, 4> four {};
    transport->read(mmio::config + 6, four); // runs past the 8-byte config: zeros
    EXPECT_EQ(four, (std::array<uint8_t, 4> { 7, 8, 0, 0 }));

    std::array<uint8_t, 8> eight {};
    eight.fill(0xaa);
    transport->read(mmio::config, eight);
    EXPECT_EQ(eight, (std::array<uint8_t, 8> {}));
    transport->write(mmio::config, eight);
    EXPECT_EQ(device.config[0], 1);
    EXPECT_EQ(transport->stats().bad_width, 2u);

    std::array<uint8_t const, 2> update { 0x42, 0x43 };
    transport->write(mmio::config + 1, update);
    EXPECT_EQ(device.config[1], 0x42);
    EXPECT_EQ(device.config[2], 0x43);
}

TEST_F(MmioTransportTest, MmioTransport_StatusSkippingSteps_IsRejected)
{
    set(mmio::status, status::acknowledge | status::driver | status::features_ok | status::driver_ok);
    EXPECT_EQ(driver->status(), 0u);
    set(mmio::status, status::acknowledge);
    set(mmio::status, status::acknowledge | status::features_ok);
    EXPECT_EQ(driver->status(), status::acknowledge);
    EXPECT_EQ(transport->stats().rejected_status, 2u);
    EXPECT_FALSE(transport->is_activated());
}

TEST_F(MmioTransportTest, MmioTransport_ClearingStatusBits_IsRejected)
{
    ASSERT_TRUE(driver->negotiate(0));
    set(mmio::status, status::acknowledge);
    EXPECT_EQ(driver->status(), status::acknowledge | status::driver | status::features_ok);
}

TEST_F(MmioTransportTest, MmioTransport_Failed_StopsFurtherProgress)
{
    ASSERT_TRUE(driver->negotiate(0));
    ASSERT_TRUE(driver->setup_queue(0, 16));
    set(mmio::status, driver->status() | status::failed);
    set(mmio::status, driver->status() | status::driver_ok);
    EXPECT_FALSE(transport->is_activated());
    EXPECT_EQ(driver->status() & status::driver_ok, 0u);
}

TEST_F(MmioTransportTest, MmioTransport_Reset_ClearsEverything)
{
    ASSERT_TRUE(driver->start(virtio::feature_mask(device_feature_low), queue_sizes));
    device.active_interrupt->signal_used_buffer();
    set(mmio::queue_sel, 1);
    set(mmio::device_features_sel, 1);

    driver->reset();

    EXPECT_EQ(device.resets, 1);
    EXPECT_FALSE(transport->is_activated());
    EXPECT_EQ(driver->status(), 0u);
    EXPECT_EQ(driver->interrupt_status(), 0u);
    EXPECT_EQ(reg(mmio::config_generation), 0u);
    // Selectors back to 0, queues no longer ready.
    EXPECT_EQ(reg(mmio::queue_num_max), 16u);
    EXPECT_EQ(reg(mmio::queue_ready), 0u);
    EXPECT_EQ(reg(mmio::device_features), static_cast<uint32_t>(device.features() | version_1));
    // Kicks after reset do not reach the device; a full restart works, with fresh features.
    driver->kick(0);
    EXPECT_TRUE(device.notified.empty());
    ASSERT_TRUE(driver->start(0, queue_sizes));
    EXPECT_EQ(device.activations, 2);
    EXPECT_EQ(device.negotiated, version_1);
}

TEST_F(MmioTransportTest, MmioTransport_InvalidQueueSize_MarksNeedsResetAtDriverOk)
{
    ASSERT_TRUE(driver->negotiate(0));
    ASSERT_TRUE(driver->setup_queue(0, 16));
    set(mmio::queue_sel, 0);
    set(mmio::queue_num, 12); // not a power of two

    EXPECT_FALSE(driver->driver_ok());

    EXPECT_TRUE(driver->status() & status::device_needs_reset);
    EXPECT_TRUE(driver->interrupt_status() & virtio::interrupt_status::config_change);
    EXPECT_EQ(trigger->count(), 1u);
    EXPECT_EQ(device.activations, 0);
    EXPECT_FALSE(transport->is_activated());
}

TEST_F(MmioTransportTest, MmioTransport_QueueAboveMaximum_MarksNeedsReset)
{
    device.max_size_0 = 8;
    ASSERT_TRUE(driver->negotiate(0));
    ASSERT_TRUE(driver->setup_queue(0, 8));
    set(mmio::queue_sel, 0);
    set(mmio::queue_num, 16);
    EXPECT_FALSE(driver->driver_ok());
    EXPECT_TRUE(driver->status() & status::device_needs_reset);
}

TEST_F(MmioTransportTest, MmioTransport_QueueOutsideGuestMemory_MarksNeedsReset)
{
    ASSERT_TRUE(driver->negotiate(0));
    ASSERT_TRUE(driver->setup_queue(0, 16));
    set(mmio::queue_sel, 0);
    set(mmio::queue_device_high, 1); // used ring above 4 GiB, where there is no memory

    EXPECT_FALSE(driver->driver_ok());
    EXPECT_TRUE(driver->status() & status::device_needs_reset);
    // Queue registers stay frozen while the device needs a reset.
    set(mmio::queue_device_high, 0);
    EXPECT_FALSE(transport->is_activated());
}

TEST_F(MmioTransportTest, MmioTransport_DeviceRefusesActivation_MarksNeedsReset)
{
    device.refuse_activation = true;
    EXPECT_FALSE(driver->start(0, queue_sizes));
    EXPECT_TRUE(driver->status() & status::device_needs_reset);
    // Linux ORs new bits into what it read: the NEEDS_RESET bit written back is tolerated.
    set(mmio::status, driver->status() | status::failed);
    EXPECT_TRUE(driver->status() & status::failed);
    // Reset recovers.
    driver->reset();
    device.refuse_activation = false;
    EXPECT_EQ(driver->status(), 0u);
    EXPECT_TRUE(driver->start(0, queue_sizes));
}

TEST_F(MmioTransportTest, MmioTransport_QueueNotify_ReachesDeviceOnlyWhenActive)
{
    driver->kick(0);
    EXPECT_TRUE(device.notified.empty());
    ASSERT_TRUE(driver->start(0, queue_sizes));

    driver->kick(1);
    driver->kick(2); // no such queue
    transport->notify_queue(0); // the ioeventfd path

    EXPECT_EQ(device.notified, (std::vector<uint16_t> { 1, 0 }));
}

TEST_F(MmioTransportTest, MmioTransport_InterruptAck_ClearsOnlyAcknowledgedBits)
{
    ASSERT_TRUE(driver->start(0, queue_sizes));
    device.active_interrupt->signal_used_buffer();
    device.active_interrupt->signal_config_change();
    EXPECT_EQ(driver->interrupt_status(), 3u);
    EXPECT_EQ(trigger->count(), 2u);

    driver->acknowledge_interrupt(virtio::interrupt_status::used_buffer);

    EXPECT_EQ(driver->interrupt_status(), virtio::interrupt_status::config_change);
    EXPECT_EQ(reg(mmio::config_generation), 1u);
}

TEST_F(MmioTransportTest, MmioTransport_UnknownAndReadOnlyRegisters_AreIgnored)
{
    set(mmio::magic_value, 0);
    set(0x0c0, 1);
    EXPECT_EQ(reg(mmio::magic_value), mmio::magic);
    EXPECT_EQ(reg(0x0c0), 0u);
    EXPECT_EQ(reg(mmio::queue_notify), 0u); // write-only
    EXPECT_EQ(transport->stats().ignored_writes, 2u);
    EXPECT_EQ(transport->stats().ignored_reads, 2u);
}

TEST_F(MmioTransportTest, MmioTransport_SharedMemoryRegions_ReadAsAbsent)
{
    set(mmio::shm_sel, 0);
    EXPECT_EQ(reg(mmio::shm_len_low), 0xffffffffu);
    EXPECT_EQ(reg(mmio::shm_len_high), 0xffffffffu);
}

class BadQueueDevice final : public VirtioDevice {
public:
    virtio::DeviceType device_type() const override { return virtio::DeviceType::Net; }
    uint64_t features() const override { return 0; }
    uint16_t queue_count() const override { return 1; }
    uint16_t queue_max_size(uint16_t) const override { return 512; }
    void read_config(uint64_t, std::span<uint8_t>) const override { }
    void write_config(uint64_t, std::span<uint8_t const>) override { }
    Result<void> activate(GuestMemory&, std::span<SplitQueue>, VirtioInterrupt&, uint64_t) override { return {}; }
    void reset() override { }
    void queue_notify(uint16_t) override { }
};

TEST(MmioTransport, MmioTransport_DeviceQueueAbove256_IsRejectedAtCreate)
{
    auto memory = GuestMemory::create({ { GuestAddress(0), 0x10000 } });
    ASSERT_TRUE(memory);
    BadQueueDevice device;
    CountingInterruptTrigger trigger;
    EXPECT_FALSE(MmioTransport::create(*memory, device, trigger));
}

} // namespace
