// Bus: sorted, non-overlapping ranges; lookup by binary search without locks.
#include "runtime/devices/bus.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>

namespace husk {

namespace {
// What an unmapped read returns: the floating data lines of ISA/PCI read as all ones.
constexpr uint8_t all_ones = 0xff;

// "[0x3f8, +0x8)": start and length, since the end of a range may not fit in 64 bits.
std::string describe_range(uint64_t base, uint64_t length)
{
    char text[64];
    std::snprintf(text, sizeof text, "[%#" PRIx64 ", +%#" PRIx64 ")", base, length);
    return text;
}

// Last byte of a non-empty range; callers have checked that it does not overflow.
uint64_t last_byte(uint64_t base, uint64_t length) { return base + (length - 1); }
} // namespace

Result<void> Bus::insert(std::shared_ptr<BusDevice> device, uint64_t base, uint64_t length)
{
    if (!device)
        return fail("bus: cannot insert a null device at " + describe_range(base, length));
    if (length == 0)
        return fail("bus: device range " + describe_range(base, length) + " has zero length");
    // The last byte must exist: a range may end exactly at 2^64 but not beyond.
    if (length - 1 > UINT64_MAX - base)
        return fail("bus: device range " + describe_range(base, length) + " overflows the address space");

    auto position = std::upper_bound(m_entries.begin(), m_entries.end(), base,
        [](uint64_t address, Entry const& entry) { return address < entry.base; });
    // Only the neighbours can overlap: the list is sorted and non-overlapping.
    if (position != m_entries.begin()) {
        auto const& previous = *(position - 1);
        if (last_byte(previous.base, previous.length) >= base)
            return fail("bus: device range " + describe_range(base, length) + " overlaps "
                + describe_range(previous.base, previous.length));
    }
    if (position != m_entries.end() && position->base <= last_byte(base, length))
        return fail("bus: device range " + describe_range(base, length) + " overlaps "
            + describe_range(position->base, position->length));

    m_entries.insert(position, Entry { base, length, std::move(device) });
    return {};
}

Bus::Entry const* Bus::find(uint64_t address, uint64_t size) const
{
    if (size == 0)
        return nullptr;
    auto position = std::upper_bound(m_entries.begin(), m_entries.end(), address,
        [](uint64_t value, Entry const& entry) { return value < entry.base; });
    if (position == m_entries.begin())
        return nullptr;
    auto const& entry = *(position - 1);
    // Offsets instead of end addresses: no sum here can overflow.
    uint64_t offset = address - entry.base;
    if (offset >= entry.length || size > entry.length - offset)
        return nullptr;
    return &entry;
}

bool Bus::read(uint64_t address, std::span<uint8_t> data) const
{
    auto const* entry = find(address, data.size());
    if (!entry) {
        std::fill(data.begin(), data.end(), all_ones);
        return false;
    }
    entry->device->read(address - entry->base, data);
    return true;
}

bool Bus::write(uint64_t address, std::span<uint8_t const> data) const
{
    auto const* entry = find(address, data.size());
    if (!entry)
        return false;
    entry->device->write(address - entry->base, data);
    return true;
}

} // namespace husk
