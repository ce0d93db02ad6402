// Driver side of one virtio-mmio device (virtio 1.2 §4.2), with every step exposed on its own so
// cases can do them in the wrong order, twice, or with the wrong values.
#pragma once

#include "boot_info.hpp"
#include "virtio/core/virtio_spec.hpp"
#include "virtio/mmio/mmio_registers.hpp"

#include <cstdint>

namespace guest {

namespace mmio = husk::virtio::mmio;
namespace vstatus = husk::virtio::status;
using husk::virtio::feature_mask;

class VirtioDevice {
public:
    VirtioDevice() = default;
    explicit VirtioDevice(MmioSlot slot)
        : m_slot(slot)
    {
    }

    uint64_t base() const { return m_slot.base; }
    uint32_t read(uint64_t offset) const;
    void write(uint64_t offset, uint32_t value) const;

    bool is_virtio() const;
    uint32_t device_id() const;
    uint64_t offered_features() const;
    uint32_t status() const { return read(mmio::status); }
    bool needs_reset() const { return (status() & vstatus::device_needs_reset) != 0; }
    bool is_live() const
    {
        auto value = status();
        return (value & vstatus::driver_ok) && !(value & vstatus::device_needs_reset);
    }

    void reset() const { write(mmio::status, 0); }
    // Adds `bits` to the status as Linux does (read, OR, write back).
    void add_status(uint32_t bits) const { write(mmio::status, status() | bits); }
    // ACKNOWLEDGE, DRIVER, the feature words, FEATURES_OK; true when FEATURES_OK stuck.
    bool negotiate(uint64_t features) const;
    void write_features(uint64_t features) const;
    uint16_t queue_max(uint16_t index) const;
    // Selects the queue and writes size and addresses (and READY when `ready`).
    void configure_queue(
        uint16_t index, uint32_t size, uint64_t descriptors, uint64_t avail, uint64_t used, bool ready = true) const;
    void notify(uint32_t queue) const { write(mmio::queue_notify, queue); }

private:
    MmioSlot m_slot;
};

} // namespace guest
