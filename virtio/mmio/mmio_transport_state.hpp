// The guest-visible state of a virtio-mmio transport and its queues, as a snapshot keeps it:
// the registers the driver wrote, the device status, the interrupt bits and, for each queue, where
// the device is in the rings.
#pragma once

#include <cstdint>
#include <vector>

namespace husk {

struct MmioQueueState {
    uint16_t size { 0 };
    bool ready { false };
    uint64_t descriptor_table { 0 };
    uint64_t avail_ring { 0 };
    uint64_t used_ring { 0 };
    // Ring positions of an activated queue (zero otherwise).
    uint16_t next_avail { 0 };
    uint16_t next_used { 0 };
    uint16_t signalled_used { 0 };
};

struct MmioTransportState {
    uint32_t status { 0 }; // without NEEDS_RESET (below)
    uint32_t device_features_select { 0 };
    uint32_t driver_features_select { 0 };
    uint64_t driver_features { 0 };
    uint32_t queue_select { 0 };
    uint32_t interrupt_status { 0 };
    bool needs_reset { false };
    uint32_t config_generation { 0 };
    std::vector<MmioQueueState> queues; // one per device queue
};

} // namespace husk
