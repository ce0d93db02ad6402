// QueueBatch: one pass of a device over one of its queues, the loop every husk device shares (as
// rust-vmm's AvailIter and Firecracker's pop_or_enable_notification are for theirs). It pops
// the next available chain, triages guest faults by the one policy of docs/security.md, puts
// chains back on the used ring with the length the device really wrote, publishes them with one
// used->idx store at the end, and decides once whether the driver wants an interrupt for
// everything the batch completed.
//
// Fault policy: a chain-level fault completes that request with used length 0 and the batch goes
// on; a ring-level fault, or a used ring that cannot be written, marks the device NEEDS_RESET and
// ends the batch. A queue that broke earlier yields nothing: it was reported when it broke.
#pragma once

#include "virtio/core/interrupt.hpp"
#include "virtio/queue/descriptor_chain.hpp"
#include "virtio/queue/split_queue.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace husk {

class QueueBatch {
public:
    // `label` starts the log line of a fault ("virtio-rng", "virtio-vsock: tx queue"). `queue`
    // and `interrupt` must outlive the batch.
    QueueBatch(SplitQueue& queue, VirtioInterrupt& interrupt, std::string_view label)
        : m_queue(queue)
        , m_interrupt(interrupt)
        , m_label(label)
    {
    }
    ~QueueBatch() { finish(); }
    QueueBatch(QueueBatch const&) = delete;
    QueueBatch& operator=(QueueBatch const&) = delete;

    // The next chain to serve, or nothing: the ring is empty, or the batch ended on a ring-level
    // fault. Chain-level faults met on the way are completed (used length 0) and counted.
    std::optional<DescriptorChain> next();
    // Returns chain `head` to the driver with `written` bytes really written into its buffers.
    // The entry is staged: the driver sees it when the batch finishes.
    void complete(uint16_t head, uint32_t written);
    // Publishes the batch's completions with one used->idx store, then makes the batch's one
    // notification decision: interrupts if anything was completed and the driver asked to hear
    // of it (used_event with EVENT_IDX). The destructor calls it; a second call does nothing.
    void finish();

    uint64_t completed() const { return m_completed; }
    // Requests lost to chain-level faults, for the device's statistics.
    uint64_t chain_faults() const { return m_chain_faults; }
    // The batch ended on a ring-level fault and the device asked for a reset.
    bool stopped() const { return m_stopped; }

private:
    void stop(std::string const& why);

    SplitQueue& m_queue;
    VirtioInterrupt& m_interrupt;
    std::string_view m_label;
    uint64_t m_completed { 0 };
    uint64_t m_chain_faults { 0 };
    bool m_stopped { false };
    bool m_finished { false };
};

} // namespace husk
