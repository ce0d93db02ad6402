// MockQueue: driver-side ring manipulation, mirroring what Linux's virtio_ring does.
#include "virtio/testing/mock_queue.hpp"

#include <atomic>
#include <vector>

namespace husk {

namespace ring = virtio::ring;

namespace {
    constexpr uint64_t align_up(uint64_t value, uint64_t alignment)
    {
        return (value + alignment - 1) / alignment * alignment;
    }

    ring::Descriptor to_descriptor(MockBuffer const& buffer)
    {
        return { buffer.address.value(), buffer.length,
            static_cast<uint16_t>(buffer.access == BufferAccess::DeviceWritable ? ring::desc_flag_write : 0), 0 };
    }
} // namespace

uint64_t MockQueue::footprint(uint16_t size)
{
    uint64_t avail = align_up(ring::descriptor_table_size(size), ring::avail_ring_alignment);
    uint64_t used = align_up(avail + ring::avail_ring_size(size), ring::used_ring_alignment);
    return used + ring::used_ring_size(size);
}

Result<MockQueue> MockQueue::create(GuestMemory& memory, GuestAddress base, uint16_t size)
{
    if (size == 0)
        return fail("mock queue size must not be zero");
    TRY(memory.fill(base, 0, footprint(size)));
    uint64_t avail = align_up(ring::descriptor_table_size(size), ring::avail_ring_alignment);
    uint64_t used = align_up(avail + ring::avail_ring_size(size), ring::used_ring_alignment);
    return MockQueue(memory, QueueLayout { size, base, base.unchecked_add(avail), base.unchecked_add(used) });
}

uint16_t MockQueue::allocate_descriptors(uint16_t count)
{
    uint16_t first = m_next_free;
    m_next_free = static_cast<uint16_t>((m_next_free + count) % m_layout.size);
    return first;
}

Result<void> MockQueue::write_descriptor(uint16_t index, ring::Descriptor const& descriptor)
{
    return m_memory->write_obj(
        m_layout.descriptor_table.unchecked_add(uint64_t { index } * sizeof(ring::Descriptor)), descriptor);
}

Result<void> MockQueue::write_descriptor_table(GuestAddress table, std::span<ring::Descriptor const> descriptors)
{
    return m_memory->write(
        table, std::span(reinterpret_cast<uint8_t const*>(descriptors.data()), descriptors.size_bytes()));
}

Result<uint16_t> MockQueue::add_chain(std::span<MockBuffer const> buffers)
{
    if (buffers.empty() || buffers.size() > m_layout.size)
        return fail("mock chain needs 1 to queue-size buffers");
    uint16_t head = allocate_descriptors(static_cast<uint16_t>(buffers.size()));
    for (size_t i = 0; i < buffers.size(); ++i) {
        auto descriptor = to_descriptor(buffers[i]);
        uint16_t index = static_cast<uint16_t>((head + i) % m_layout.size);
        if (i + 1 < buffers.size()) {
            descriptor.flags |= ring::desc_flag_next;
            descriptor.next = static_cast<uint16_t>((index + 1) % m_layout.size);
        }
        TRY(write_descriptor(index, descriptor));
    }
    TRY(publish(head));
    return head;
}

Result<uint16_t> MockQueue::add_indirect_chain(GuestAddress table, std::span<MockBuffer const> buffers)
{
    if (buffers.empty())
        return fail("mock indirect chain needs at least one buffer");
    std::vector<ring::Descriptor> entries;
    for (size_t i = 0; i < buffers.size(); ++i) {
        auto descriptor = to_descriptor(buffers[i]);
        if (i + 1 < buffers.size()) {
            descriptor.flags |= ring::desc_flag_next;
            descriptor.next = static_cast<uint16_t>(i + 1);
        }
        entries.push_back(descriptor);
    }
    TRY(write_descriptor_table(table, entries));
    uint16_t head = allocate_descriptors(1);
    TRY(write_descriptor(head,
        { table.value(), static_cast<uint32_t>(entries.size() * sizeof(ring::Descriptor)), ring::desc_flag_indirect,
            0 }));
    TRY(publish(head));
    return head;
}

Result<void> MockQueue::publish(uint16_t head)
{
    uint16_t slot = m_avail_index % m_layout.size;
    TRY(m_memory->write_obj(m_layout.avail_ring.unchecked_add(ring::avail_entry_offset(slot)), head));
    return set_avail_index(static_cast<uint16_t>(m_avail_index + 1));
}

Result<void> MockQueue::set_avail_index(uint16_t index)
{
    // Release: the entries must be visible before the index that publishes them (the driver's
    // virtio_wmb in virtqueue_add_split; pairs with SplitQueue's acquire load of avail->idx).
    TRY(m_memory->store<uint16_t>(
        m_layout.avail_ring.unchecked_add(ring::avail_idx_offset), index, std::memory_order_release));
    m_avail_index = index;
    return {};
}

Result<void> MockQueue::set_avail_flags(uint16_t flags)
{
    return m_memory->write_obj(m_layout.avail_ring.unchecked_add(ring::avail_flags_offset), flags);
}

Result<void> MockQueue::set_used_event(uint16_t index)
{
    return m_memory->write_obj(m_layout.avail_ring.unchecked_add(ring::used_event_offset(m_layout.size)), index);
}

Result<uint16_t> MockQueue::used_index() const
{
    // Acquire: pairs with SplitQueue::add_used's release store of used->idx, so the entries read
    // after it are at least as new (the driver's virtio_rmb in virtqueue_get_buf_ctx_split).
    return m_memory->load<uint16_t>(m_layout.used_ring.unchecked_add(ring::used_idx_offset), std::memory_order_acquire);
}

Result<uint16_t> MockQueue::used_flags() const
{
    return m_memory->read_obj<uint16_t>(m_layout.used_ring.unchecked_add(ring::used_flags_offset));
}

Result<uint16_t> MockQueue::avail_event() const
{
    return m_memory->read_obj<uint16_t>(m_layout.used_ring.unchecked_add(ring::avail_event_offset(m_layout.size)));
}

Result<std::optional<ring::UsedElement>> MockQueue::pop_used()
{
    auto used = TRY(used_index());
    if (used == m_last_used)
        return std::optional<ring::UsedElement> {};
    uint16_t slot = m_last_used % m_layout.size;
    auto element
        = TRY(m_memory->read_obj<ring::UsedElement>(m_layout.used_ring.unchecked_add(ring::used_entry_offset(slot))));
    ++m_last_used;
    return std::optional(element);
}

} // namespace husk
