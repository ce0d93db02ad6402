// RngDevice: virtio entropy device (virtio 1.2 §5.4, device type 4). One queue; the driver posts
// device-writable buffers and the device fills them with random bytes, at most
// max_bytes_per_request per chain so one request cannot keep the event thread busy for long.
// Guest faults: a chain with device-readable buffers is completed with used length 0; a broken
// ring marks the device NEEDS_RESET.
#pragma once

#include "virtio/core/virtio_device.hpp"
#include "virtio/rng/entropy_source.hpp"

#include <array>
#include <cstdint>

namespace husk {

struct RngDeviceStats {
    uint64_t requests_completed { 0 };
    uint64_t requests_rejected { 0 }; // completed with an error (used length 0)
    uint64_t bytes_provided { 0 };
};

class RngDevice final : public VirtioDevice {
public:
    static constexpr uint32_t max_bytes_per_request = 64 * 1024;
    static constexpr uint16_t queue_size = virtio::max_queue_size;

    // `source` must outlive the device.
    explicit RngDevice(EntropySource& source)
        : m_source(source)
    {
    }

    virtio::DeviceType device_type() const override { return virtio::DeviceType::Entropy; }
    uint64_t features() const override;
    uint16_t queue_count() const override { return 1; }
    uint16_t queue_max_size(uint16_t) const override { return queue_size; }
    // The entropy device has no config space.
    void read_config(uint64_t offset, std::span<uint8_t> data) const override { copy_config({}, offset, data); }
    void write_config(uint64_t, std::span<uint8_t const>) override { }
    Result<void> activate(GuestMemory& memory, std::span<SplitQueue> queues, VirtioInterrupt& interrupt,
        uint64_t negotiated_features) override;
    void reset() override;
    void queue_notify(uint16_t index) override;
    // Requests are served at once: the queue is all the state there is.
    bool supports_snapshot() const override { return true; }

    RngDeviceStats stats() const { return m_stats; }

private:
    // Fills the chain's writable buffers; returns the bytes that reached the guest.
    uint32_t fill_chain(DescriptorChain const& chain);

    EntropySource& m_source;
    GuestMemory* m_memory { nullptr };
    SplitQueue* m_queue { nullptr };
    VirtioInterrupt* m_interrupt { nullptr };
    RngDeviceStats m_stats;
    bool m_source_failure_logged { false };
    std::array<uint8_t, 4096> m_chunk {};
};

} // namespace husk
