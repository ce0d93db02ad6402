// Small helpers shared by the case files.
#pragma once

#include "runtime/arena.hpp"
#include "runtime/hostile.hpp"

#include <initializer_list>

namespace guest {

inline DriverQueue& data_queue(Session& session) { return session.data_queue(); }
inline uint16_t data_flags(Session& session) { return session.kind->data_flags; }
// Gives the device a moment to handle what was submitted; no answer is required.
inline void settle(Session& session)
{
    UsedElement used {};
    session.data_queue().wait_used(used, short_wait_budget);
}
// One descriptor at `slot` with the kind's plain flags plus `extra`, submitted.
inline void submit_single(
    Session& session, uint64_t address, uint32_t length, uint16_t extra_flags = 0, uint16_t next = 0, uint16_t slot = 0)
{
    auto& queue = data_queue(session);
    queue.set(slot, address, length, static_cast<uint16_t>(data_flags(session) | extra_flags), next);
    queue.submit(slot);
}
inline constexpr uint64_t indirect_feature = feature_mask(husk::virtio::feature::indirect_desc);
inline constexpr uint64_t event_idx_feature = feature_mask(husk::virtio::feature::event_idx);
inline constexpr uint64_t version_1_feature = feature_mask(husk::virtio::feature::version_1);
// The MMIO hole of husk's layout and an address in it that is no device.
inline constexpr uint64_t mmio_hole_address = 0xc000'0000;

} // namespace guest
