#include "virtio_device.hpp"

#include "io.hpp"

namespace guest {

uint32_t VirtioDevice::read(uint64_t offset) const { return mmio_read32(m_slot.base + offset); }
void VirtioDevice::write(uint64_t offset, uint32_t value) const { mmio_write32(m_slot.base + offset, value); }

bool VirtioDevice::is_virtio() const
{
    return read(mmio::magic_value) == mmio::magic && read(mmio::version) == mmio::version_2;
}

uint32_t VirtioDevice::device_id() const { return read(mmio::device_id); }

uint64_t VirtioDevice::offered_features() const
{
    write(mmio::device_features_sel, 0);
    uint64_t low = read(mmio::device_features);
    write(mmio::device_features_sel, 1);
    uint64_t high = read(mmio::device_features);
    return low | high << 32;
}

void VirtioDevice::write_features(uint64_t features) const
{
    write(mmio::driver_features_sel, 0);
    write(mmio::driver_features, static_cast<uint32_t>(features));
    write(mmio::driver_features_sel, 1);
    write(mmio::driver_features, static_cast<uint32_t>(features >> 32));
}

bool VirtioDevice::negotiate(uint64_t features) const
{
    reset();
    add_status(vstatus::acknowledge);
    add_status(vstatus::driver);
    write_features(features);
    add_status(vstatus::features_ok);
    return (status() & vstatus::features_ok) != 0;
}

uint16_t VirtioDevice::queue_max(uint16_t index) const
{
    write(mmio::queue_sel, index);
    return static_cast<uint16_t>(read(mmio::queue_num_max));
}

void VirtioDevice::configure_queue(
    uint16_t index, uint32_t size, uint64_t descriptors, uint64_t avail, uint64_t used, bool ready) const
{
    write(mmio::queue_sel, index);
    write(mmio::queue_num, size);
    write(mmio::queue_desc_low, static_cast<uint32_t>(descriptors));
    write(mmio::queue_desc_high, static_cast<uint32_t>(descriptors >> 32));
    write(mmio::queue_driver_low, static_cast<uint32_t>(avail));
    write(mmio::queue_driver_high, static_cast<uint32_t>(avail >> 32));
    write(mmio::queue_device_low, static_cast<uint32_t>(used));
    write(mmio::queue_device_high, static_cast<uint32_t>(used >> 32));
    if (ready)
        write(mmio::queue_ready, 1);
}

} // namespace guest
