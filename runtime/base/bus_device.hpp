// BusDevice: what a guest port-I/O or MMIO access reaches. It lives in base, below both the VMM's
// buses (runtime/devices) and the virtio transports (virtio/mmio), so a transport can sit on a
// bus directly without depending on the VMM.
#pragma once

#include <cstdint>
#include <span>

namespace husk {

// Called from any vCPU thread, possibly concurrently: implementations lock internally. Offsets
// are relative to the device's base; a bus only forwards accesses that lie entirely inside the
// device's range, so offset + data.size() <= length always holds.
class BusDevice {
public:
    virtual ~BusDevice() = default;
    virtual void read(uint64_t offset, std::span<uint8_t> data) = 0;
    virtual void write(uint64_t offset, std::span<uint8_t const> data) = 0;
};

} // namespace husk
