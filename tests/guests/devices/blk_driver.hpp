// virtio-blk requests from the guest side: header, optional data, status byte (virtio 1.2 §5.2.6).
#pragma once

#include "runtime/hostile.hpp"
#include "virtio/block/block_spec.hpp"

#include <cstdint>

namespace guest {

namespace blk = husk::virtio::block;

// Sector 0 of the disks the lab suite attaches starts with these (NUL-terminated).
inline constexpr char blk_rw_magic[] = "HUSK-HOSTILE-RW";
inline constexpr char blk_ro_magic[] = "HUSK-HOSTILE-RO";

inline constexpr int blk_no_answer = -1;

uint64_t blk_capacity(Session& session);
bool blk_is_read_only(VirtioDevice const& device);

// One request in descriptors first_slot.. : a readable header, `data_length` bytes at `data`
// (device-writable when `data_flags` has flag_write; no data descriptor when length is 0), a
// writable status byte. Returns the status byte, or blk_no_answer.
int blk_request(Session& session, uint32_t type, uint64_t sector, uint64_t data, uint32_t data_length,
    uint16_t data_flags, uint16_t first_slot = probe_slot);

} // namespace guest
