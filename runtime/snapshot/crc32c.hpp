// CRC-32C (Castagnoli), the checksum of a snapshot state file's body. Software, table-driven:
// a state file is a few tens of KiB, so speed does not matter and no CPU feature is needed.
#pragma once

#include <cstdint>
#include <span>

namespace husk {

// The CRC-32C of `bytes` (initial value and final xor 0xffffffff, as iSCSI and ext4 use it).
uint32_t crc32c(std::span<uint8_t const> bytes);

} // namespace husk
