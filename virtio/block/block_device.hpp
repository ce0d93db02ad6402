// BlockDevice: the virtio block device (virtio 1.2 §5.2, device type 2) with one request queue.
// Requests are parsed by parse_block_request, carried out by a BlockBackend and completed in
// whatever order the backend finishes them. Config space: capacity, seg_max, blk_size and the
// discard / write-zeroes limits.
//
// Guest faults: a request the parser rejects is completed at once with its status (or with used
// length 0 when it has no status byte); a chain-level queue error completes that chain with used
// length 0; a broken ring marks the device NEEDS_RESET.
//
// Threading, as for VsockDevice: the transport calls the VirtioDevice methods under its lock and
// the backend reports completions on the event thread; an internal mutex serialises both.
// queue_notify() calls the backend, so it must come from the event thread (the VMM registers an
// ioeventfd for the queue). reset() may run on a vCPU thread and does not call the backend: the
// requests in flight stay owned by the device until the backend reports them, and are then
// dropped without touching the (new) queue.
#pragma once

#include "virtio/block/block_backend.hpp"
#include "virtio/block/block_request.hpp"
#include "virtio/core/virtio_device.hpp"
#include "virtio/queue/queue_batch.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace husk {

struct BlockDeviceStats {
    uint64_t requests_completed { 0 }; // with status OK
    uint64_t requests_failed { 0 }; // completed with IOERR or UNSUPP
    uint64_t requests_unreportable { 0 }; // no status byte or a chain-level fault: used length 0
    uint64_t bytes_read { 0 };
    uint64_t bytes_written { 0 };
};

class BlockDevice final : public VirtioDevice, public BlockBackendEvents {
public:
    static constexpr uint16_t queue_size = virtio::max_queue_size;
    // Data segments per request: Linux adds the header and status descriptors, and the whole
    // request must fit one indirect table (max_indirect_descriptors).
    static constexpr uint32_t seg_max = 128;
    // One segment of at most 1 GiB per discard / write-zeroes request.
    static constexpr uint32_t max_range_sectors = (1u << 30) >> virtio::block::sector_shift;

    // `backend` must outlive the device; the device registers itself as its event sink.
    explicit BlockDevice(BlockBackend& backend);
    ~BlockDevice() override;
    BlockDevice(BlockDevice const&) = delete;
    BlockDevice& operator=(BlockDevice const&) = delete;

    // VirtioDevice
    virtio::DeviceType device_type() const override { return virtio::DeviceType::Block; }
    uint64_t features() const override;
    uint16_t queue_count() const override { return 1; }
    uint16_t queue_max_size(uint16_t) const override { return queue_size; }
    void read_config(uint64_t offset, std::span<uint8_t> data) const override;
    void write_config(uint64_t, std::span<uint8_t const>) override { } // nothing writable offered
    Result<void> activate(GuestMemory& memory, std::span<SplitQueue> queues, VirtioInterrupt& interrupt,
        uint64_t negotiated_features) override;
    void reset() override;
    void queue_notify(uint16_t index) override;
    // The queue and the capacity are the state; a snapshot waits for the backend to finish
    // what is in flight (its completions write guest memory).
    bool supports_snapshot() const override { return true; }
    bool has_requests_in_flight() const override;

    // BlockBackendEvents
    void on_block_complete(uint64_t tag, BlockResult result) override;

    uint64_t capacity_sectors() const { return m_capacity_sectors; }
    BlockDeviceStats stats() const;
    size_t requests_in_flight() const;

private:
    struct InFlight {
        uint64_t generation { 0 }; // the activation it belongs to
        uint16_t head { 0 };
        GuestAddress status_address;
        BlockRequestType type { BlockRequestType::Read };
        uint64_t length { 0 };
        std::vector<iovec> buffers; // handed to the backend: lives until it reports
    };

    bool is_active() const { return m_memory != nullptr; }
    // Handles one parsed, valid request: completes it in `batch` at once, or submits it to the
    // backend, which reports it to on_block_complete().
    void start(QueueBatch& batch, uint16_t head, ParsedBlockRequest const& parsed);
    bool write_id(ParsedBlockRequest const& parsed);
    // Writes the status byte and puts the chain on the used ring with `written` data bytes.
    void complete(QueueBatch& batch, uint16_t head, GuestAddress status_address, uint8_t status, uint64_t written);
    void finish(QueueBatch& batch, InFlight const& request, BlockResult result);

    BlockBackend& m_backend;
    uint64_t m_capacity_sectors { 0 };
    mutable std::mutex m_mutex;
    GuestMemory* m_memory { nullptr };
    SplitQueue* m_queue { nullptr };
    VirtioInterrupt* m_interrupt { nullptr };
    BlockDiskLimits m_limits;
    uint64_t m_generation { 0 };
    uint64_t m_next_tag { 0 };
    std::unordered_map<uint64_t, std::unique_ptr<InFlight>> m_in_flight;
    BlockDeviceStats m_stats;
};

} // namespace husk
