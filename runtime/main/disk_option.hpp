// husk-vmm's --disk value: `PATH` or `PATH,ro`. Pure parsing, so every rejection is unit-tested;
// opening and checking the file is BlockImage's job.
#pragma once

#include "runtime/base/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace husk {

// Disks a VM may have: /dev/vda.../dev/vdh, and one virtio-mmio slot each.
inline constexpr size_t max_disks = 8;

struct DiskOption {
    std::string path;
    bool read_only { false };
    bool operator==(DiskOption const&) const = default;
};

Result<DiskOption> parse_disk_option(std::string_view text);

} // namespace husk
