// Split virtqueue memory layout (virtio 1.2 §2.7): descriptor table, available (driver) ring and
// used (device) ring, as the driver lays them out in guest memory. Shared by SplitQueue (device
// side) and the mock driver (driver side).
#pragma once

#include <cstdint>

namespace husk::virtio::ring {

// One entry of the descriptor table (§2.7.5).
struct Descriptor {
    uint64_t address;
    uint32_t length;
    uint16_t flags;
    uint16_t next;
};
static_assert(sizeof(Descriptor) == 16);

inline constexpr uint16_t desc_flag_next = 1; // the chain continues at `next`
inline constexpr uint16_t desc_flag_write = 2; // device writes this buffer (else reads it)
inline constexpr uint16_t desc_flag_indirect = 4; // buffer is a table of descriptors (§2.7.5.3)

// One entry of the used ring (§2.7.8).
struct UsedElement {
    uint32_t id; // head of the chain being returned
    uint32_t length; // bytes the device wrote into the chain's writable buffers
};
static_assert(sizeof(UsedElement) == 8);

// Available ring (§2.7.6): le16 flags, le16 idx, le16 ring[size], le16 used_event.
inline constexpr uint64_t avail_flags_offset = 0;
inline constexpr uint64_t avail_idx_offset = 2;
inline constexpr uint64_t avail_ring_offset = 4;
inline constexpr uint16_t avail_flag_no_interrupt = 1; // driver needs no used-buffer interrupt

// Used ring (§2.7.8): le16 flags, le16 idx, UsedElement ring[size], le16 avail_event.
inline constexpr uint64_t used_flags_offset = 0;
inline constexpr uint64_t used_idx_offset = 2;
inline constexpr uint64_t used_ring_offset = 4;
inline constexpr uint16_t used_flag_no_notify = 1; // device needs no available-buffer notification

// Alignment the driver must honour (§2.7, table "Virtqueue Part Alignment").
inline constexpr uint64_t descriptor_table_alignment = 16;
inline constexpr uint64_t avail_ring_alignment = 2;
inline constexpr uint64_t used_ring_alignment = 4;

constexpr uint64_t descriptor_table_size(uint16_t queue_size) { return uint64_t { queue_size } * sizeof(Descriptor); }
// Includes the trailing used_event word, which exists only with VIRTIO_F_EVENT_IDX but is always
// reserved: requiring it keeps the check independent of negotiation.
constexpr uint64_t avail_ring_size(uint16_t queue_size) { return avail_ring_offset + 2 * uint64_t { queue_size } + 2; }
constexpr uint64_t used_ring_size(uint16_t queue_size)
{
    return used_ring_offset + sizeof(UsedElement) * uint64_t { queue_size } + 2;
}
constexpr uint64_t avail_entry_offset(uint16_t slot) { return avail_ring_offset + 2 * uint64_t { slot }; }
constexpr uint64_t used_event_offset(uint16_t queue_size) { return avail_entry_offset(queue_size); }
constexpr uint64_t used_entry_offset(uint16_t slot)
{
    return used_ring_offset + sizeof(UsedElement) * uint64_t { slot };
}
constexpr uint64_t avail_event_offset(uint16_t queue_size) { return used_entry_offset(queue_size); }

// The event-index test of §2.7.7.2 / §2.7.10.2: has `new_index` moved past `event` since `old_index`?
// All arithmetic is modulo 2^16, like the indices themselves.
constexpr bool need_event(uint16_t event, uint16_t new_index, uint16_t old_index)
{
    return static_cast<uint16_t>(new_index - event - 1) < static_cast<uint16_t>(new_index - old_index);
}

} // namespace husk::virtio::ring
