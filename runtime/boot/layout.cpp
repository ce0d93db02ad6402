// Guest RAM regions around the 32-bit MMIO hole.
#include "runtime/boot/layout.hpp"

#include <algorithm>

namespace husk::layout {

std::vector<GuestRegionSpec> ram_regions(uint64_t ram_bytes)
{
    std::vector<GuestRegionSpec> regions;
    uint64_t low = std::min(ram_bytes, mmio_hole_start.value());
    if (low > 0)
        regions.push_back({ GuestAddress(0), low });
    if (ram_bytes > low)
        regions.push_back({ mmio_hole_end, ram_bytes - low });
    return regions;
}

} // namespace husk::layout
