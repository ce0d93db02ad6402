// VirtioDevice: what a transport drives. A device offers features and queues, exposes a config
// space, and is activated with the negotiated features and the driver's queues once the driver
// sets DRIVER_OK; reset() returns it to that pre-activation state. Transports call every method
// under their own lock, so a device sees one call at a time.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/memory/guest_memory.hpp"
#include "virtio/core/interrupt.hpp"
#include "virtio/core/virtio_spec.hpp"
#include "virtio/queue/split_queue.hpp"

#include <algorithm>
#include <cstdint>
#include <span>

namespace husk {

class VirtioDevice {
public:
    virtual ~VirtioDevice() = default;

    virtual virtio::DeviceType device_type() const = 0;
    // Device-specific and ring feature bits offered; the transport adds VIRTIO_F_VERSION_1.
    virtual uint64_t features() const = 0;
    virtual uint16_t queue_count() const = 0;
    // A power of two ≤ virtio::max_queue_size, for each index < queue_count().
    virtual uint16_t queue_max_size(uint16_t index) const = 0;

    // Config space access at `offset` from its start; bytes past the end read as zero.
    virtual void read_config(uint64_t offset, std::span<uint8_t> data) const = 0;
    virtual void write_config(uint64_t offset, std::span<uint8_t const> data) = 0;

    // The driver set DRIVER_OK. `queues` has queue_count() entries (not-ready ones inert) and,
    // like `memory` and `interrupt`, stays valid until reset(). An error marks NEEDS_RESET.
    virtual Result<void> activate(
        GuestMemory& memory, std::span<SplitQueue> queues, VirtioInterrupt& interrupt, uint64_t negotiated_features)
        = 0;
    // Drops every reference taken at activation and any request in flight.
    virtual void reset() = 0;
    // The driver kicked queue `index` (< queue_count()), by MMIO write or ioeventfd.
    virtual void queue_notify(uint16_t index) = 0;

    // Snapshots (docs/snapshots.md). The transport saves the queues; a device whose remaining
    // state is its configuration says so here. The default is no: husk-vmm refuses to snapshot
    // a machine with a device that does not override this.
    virtual bool supports_snapshot() const { return false; }
    // Requests handed to a backend and not completed yet: a snapshot waits until there are none,
    // since their completions would land in guest memory after it was saved.
    virtual bool has_requests_in_flight() const { return false; }
    // On the event thread when a pause begins (and again while it waits for requests in flight
    // to end): start no new backend requests, cancel those that may never end by themselves
    // (virtio-net's read of a quiet tap). end_pause() on the same thread lets the device go on.
    virtual void begin_pause() { }
    virtual void end_pause() { }
    // Called with the vCPUs paused and nothing in flight, before the state is read: return to the
    // guest what the device popped and still holds, so the saved ring indices are all its state.
    virtual void prepare_snapshot() { }
    // Called once a restore activated the device on the saved queues, before the vCPUs run: tell
    // the guest what did not survive (vsock: its connections).
    virtual void after_restore() { }
};

// Copies the part of a device's config structure that `offset` and `data` cover; zero elsewhere.
inline void copy_config(std::span<uint8_t const> config, uint64_t offset, std::span<uint8_t> data)
{
    std::fill(data.begin(), data.end(), 0);
    if (offset >= config.size())
        return;
    auto count = std::min<uint64_t>(data.size(), config.size() - offset);
    std::copy_n(config.begin() + offset, count, data.begin());
}

} // namespace husk
