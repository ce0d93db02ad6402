// Bus: maps guest port-I/O or MMIO addresses to devices. The VMM fills one Bus per address space
// before the vCPUs start; vCPU threads then dispatch their PIO/MMIO exits through it concurrently.
#pragma once

#include "runtime/base/bus_device.hpp"
#include "runtime/base/result.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace husk {

class Bus {
public:
    // Registers `device` at [base, base + length). Rejects a null device, zero length, a range
    // past the end of the 64-bit address space and overlap with an already registered device.
    // Not thread-safe: call it only before the vCPUs start (lookups take no lock).
    Result<void> insert(std::shared_ptr<BusDevice> device, uint64_t base, uint64_t length);

    // Dispatch an access of data.size() bytes at `address`. Returns false (and, for reads, fills
    // data with 0xff like an unmapped ISA/PCI read) when no single device covers the whole range:
    // nothing registered there, an access straddling a device's end, or an empty access.
    bool read(uint64_t address, std::span<uint8_t> data) const;
    bool write(uint64_t address, std::span<uint8_t const> data) const;

    size_t device_count() const { return m_entries.size(); }

private:
    struct Entry {
        uint64_t base;
        uint64_t length;
        std::shared_ptr<BusDevice> device;
    };
    // The entry covering [address, address + size), or nullptr.
    Entry const* find(uint64_t address, uint64_t size) const;

    std::vector<Entry> m_entries; // sorted by base, non-overlapping
};

} // namespace husk
