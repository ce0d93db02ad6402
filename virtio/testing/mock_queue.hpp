// MockQueue: the driver side of one split virtqueue, for device tests and fuzzing. It lays the
// rings out in a GuestMemory, posts chains (direct or through an indirect table) the way Linux
// does, reads used entries back, and exposes raw hooks to write malformed descriptors and ring
// fields that a well-behaved driver never would.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/memory/guest_memory.hpp"
#include "virtio/queue/descriptor_chain.hpp"
#include "virtio/queue/ring_layout.hpp"
#include "virtio/queue/split_queue.hpp"

#include <cstdint>
#include <optional>
#include <span>

namespace husk {

struct MockBuffer {
    GuestAddress address;
    uint32_t length { 0 };
    BufferAccess access { BufferAccess::DeviceReadable };
};

class MockQueue {
public:
    // Bytes needed at `base` for a queue of `size`: table, available ring, used ring, aligned.
    static uint64_t footprint(uint16_t size);
    // Lays out and zeroes the rings at `base`. `memory` must outlive the queue.
    static Result<MockQueue> create(GuestMemory& memory, GuestAddress base, uint16_t size);

    QueueLayout const& layout() const { return m_layout; }
    uint16_t size() const { return m_layout.size; }

    // Writes `buffers` into the next free descriptors as one chain and makes it available.
    Result<uint16_t> add_chain(std::span<MockBuffer const> buffers);
    // Writes `buffers` as an indirect table at `table`, and one descriptor naming it.
    Result<uint16_t> add_indirect_chain(GuestAddress table, std::span<MockBuffer const> buffers);

    // Raw hooks: exactly what a buggy or hostile driver could write.
    Result<void> write_descriptor(uint16_t index, virtio::ring::Descriptor const& descriptor);
    Result<void> write_descriptor_table(GuestAddress table, std::span<virtio::ring::Descriptor const> descriptors);
    // Puts `head` in the next available slot and advances avail->idx.
    Result<void> publish(uint16_t head);
    Result<void> set_avail_index(uint16_t index);
    Result<void> set_avail_flags(uint16_t flags);
    Result<void> set_used_event(uint16_t index);
    uint16_t avail_index() const { return m_avail_index; }

    Result<uint16_t> used_index() const;
    Result<uint16_t> used_flags() const;
    Result<uint16_t> avail_event() const;
    // The next used entry the driver has not consumed yet, if the device returned one.
    Result<std::optional<virtio::ring::UsedElement>> pop_used();

private:
    MockQueue(GuestMemory& memory, QueueLayout layout)
        : m_memory(&memory)
        , m_layout(layout)
    {
    }
    uint16_t allocate_descriptors(uint16_t count);

    GuestMemory* m_memory;
    QueueLayout m_layout;
    uint16_t m_avail_index { 0 };
    uint16_t m_last_used { 0 };
    uint16_t m_next_free { 0 };
};

} // namespace husk
