// SplitQueue: the device side of one split virtqueue (virtio 1.2 §2.7). It pops validated
// DescriptorChains from the available ring, returns them on the used ring, and decides whether
// the driver wants an interrupt. Everything it reads from the guest is hostile: it validates the
// layout once at creation, copies each descriptor once, bounds every walk, and reports faults as
// QueueError instead of trusting or crashing.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/memory/guest_memory.hpp"
#include "virtio/queue/descriptor_chain.hpp"
#include "virtio/queue/queue_error.hpp"
#include "virtio/queue/ring_layout.hpp"

#include <cstdint>
#include <optional>
#include <variant>

namespace husk {

// Where the driver put the queue, as written to the transport's queue registers.
struct QueueLayout {
    uint16_t size { 0 };
    GuestAddress descriptor_table;
    GuestAddress avail_ring; // "driver area"
    GuestAddress used_ring; // "device area"
};

// Most descriptors husk accepts in one indirect table. Linux sizes a table by the request's
// segment count, so block/net devices must advertise limits below this.
inline constexpr uint32_t max_indirect_descriptors = 256;

// Outcome of SplitQueue::pop(): a chain, nothing available, or a guest fault.
class PopResult {
public:
    PopResult() = default; // nothing available
    PopResult(DescriptorChain chain)
        : m_value(std::move(chain))
    {
    }
    PopResult(QueueError error)
        : m_value(std::move(error))
    {
    }

    bool is_empty() const { return std::holds_alternative<std::monostate>(m_value); }
    bool has_chain() const { return std::holds_alternative<DescriptorChain>(m_value); }
    bool has_error() const { return std::holds_alternative<QueueError>(m_value); }
    DescriptorChain& chain() { return std::get<DescriptorChain>(m_value); }
    QueueError const& error() const { return std::get<QueueError>(m_value); }

private:
    std::variant<std::monostate, DescriptorChain, QueueError> m_value;
};

class SplitQueue {
public:
    // A queue the driver did not enable: pop() finds nothing, add_used() fails.
    SplitQueue() = default;
    // Validates the layout (size a power of two ≤ 256, alignment, every part inside guest
    // memory). `features` are the negotiated ones: EVENT_IDX and INDIRECT_DESC matter here.
    static Result<SplitQueue> create(GuestMemory& memory, QueueLayout const& layout, uint64_t features);

    SplitQueue(SplitQueue&&) = default;
    SplitQueue& operator=(SplitQueue&&) = default;
    SplitQueue(SplitQueue const&) = delete;
    SplitQueue& operator=(SplitQueue const&) = delete;

    bool is_ready() const { return m_memory != nullptr; }
    uint16_t size() const { return m_layout.size; }
    QueueLayout const& layout() const { return m_layout; }
    // Set after a ring-level fault; pop() then keeps returning that fault until a reset.
    bool is_broken() const { return m_broken.has_value(); }
    uint16_t next_avail_index() const { return m_next_avail; }
    // The used index after every entry written so far, staged or published.
    uint16_t next_used_index() const { return m_next_used; }
    // The used index the driver can see (used->idx as last stored).
    uint16_t published_used_index() const { return m_published_used; }
    uint16_t signalled_used_index() const { return m_signalled_used; }
    // The driver's available index as it is now (nothing when the ring cannot be read): tells
    // whether the driver posted buffers since an earlier look, without popping them.
    std::optional<uint16_t> driver_available_index() { return is_ready() ? load_avail_index() : std::nullopt; }
    // A restored queue continues where the snapshot left it. Indices are free-running 16-bit
    // counters, so any value is valid; the ring contents say the rest.
    void restore_indices(uint16_t next_avail, uint16_t next_used, uint16_t signalled_used)
    {
        m_next_avail = next_avail;
        m_next_used = next_used;
        m_published_used = next_used;
        m_signalled_used = signalled_used;
    }

    // Un-pops the last `count` chains pop() returned, which the device still holds and never
    // completed: pop() returns them again. For a pause, so the saved next available index is
    // all the state a device keeps of them (VirtioDevice::prepare_snapshot).
    void give_back(uint16_t count) { m_next_avail = static_cast<uint16_t>(m_next_avail - count); }

    // With EVENT_IDX: asks the driver to notify when it makes one more entry available than it
    // has now (avail_event = avail->idx), for a device that waits for the driver to post a
    // buffer back while others stay unpopped (pop() asks only when it finds the ring empty).
    // Without EVENT_IDX the driver notifies anyway. Fails when the used ring cannot be written.
    Result<void> ask_for_notification_at_next_entry();

    // The next available chain, nothing, or a QueueError. With EVENT_IDX, finding the ring
    // empty also asks the driver to notify at the next entry (avail_event).
    PopResult pop();

    // Returns a chain to the driver at once: stage_used() then publish_used().
    Result<void> add_used(uint16_t head, uint32_t length);
    // Writes the used entry for chain `head` (`length`: the bytes really written into it) without
    // moving used->idx: the driver sees it at the next publish_used(). A batch of completions so
    // costs one index store, and the driver finds them all at once (QueueBatch does this).
    // Fails for a queue that is not ready or a head outside it (device bugs), and when the used
    // ring cannot be written: a ring-level fault (UsedRingUnwritable) that breaks the queue.
    Result<void> stage_used(uint16_t head, uint32_t length);
    // Makes every staged entry visible with one used->idx store; nothing to do when none waits.
    Result<void> publish_used();

    // Whether the driver wants an interrupt for the entries published since the last call: by
    // used_event with EVENT_IDX, by the NO_INTERRUPT flag without it. Errs towards true when the
    // ring cannot be read: a spurious interrupt is harmless, a lost one hangs the driver.
    // Staged entries are not published here: publish_used() first.
    bool needs_notification();

private:
    SplitQueue(GuestMemory& memory, QueueLayout const& layout, uint64_t features);
    struct ChainBuilder;

    std::optional<uint16_t> load_avail_index();
    QueueError fault(QueueErrorKind kind, std::string detail);
    Unexpected<Error> used_ring_fault(std::string detail);
    PopResult read_chain(uint16_t head);
    std::optional<QueueErrorKind> read_indirect_table(
        virtio::ring::Descriptor const& descriptor, ChainBuilder& builder);

    GuestMemory* m_memory { nullptr };
    QueueLayout m_layout;
    bool m_event_idx { false };
    bool m_indirect { false };
    uint16_t m_next_avail { 0 };
    uint16_t m_next_used { 0 }; // after the last entry written, staged or not
    uint16_t m_published_used { 0 }; // as stored in used->idx
    uint16_t m_signalled_used { 0 }; // m_published_used when needs_notification() last ran
    std::optional<QueueError> m_broken;
};

} // namespace husk
