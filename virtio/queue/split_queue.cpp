// SplitQueue: available-ring consumption, chain validation, used-ring production, and
// notification suppression. The ring words the driver touches concurrently (indices, flags, event
// indices) go through GuestMemory::load/store; each ordering and fence names the Linux driver's
// operation it pairs with (drivers/virtio/virtio_ring.c).
#include "virtio/queue/split_queue.hpp"

#include "runtime/base/hex.hpp"
#include "virtio/core/virtio_spec.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <limits>
#include <string>

namespace husk {

namespace ring = virtio::ring;

namespace {
    Result<void> check_part(
        GuestMemory const& memory, char const* name, GuestAddress address, uint64_t size, uint64_t alignment)
    {
        if (address.value() % alignment != 0)
            return fail(std::string("virtqueue ") + name + " at " + hex(address.value()) + " is not "
                + std::to_string(alignment) + "-byte aligned");
        if (!memory.contains(address, size))
            return fail(std::string("virtqueue ") + name + " at " + hex(address.value()) + "+" + hex(size)
                + " is not inside guest memory");
        return {};
    }
} // namespace

// Accumulates one chain's buffers while enforcing the per-buffer rules.
struct SplitQueue::ChainBuilder {
    GuestMemory const& memory;
    std::vector<ChainBuffer> buffers;
    uint64_t readable { 0 };
    uint64_t writable { 0 };
    bool seen_writable { false };

    std::optional<QueueErrorKind> append(ring::Descriptor const& descriptor)
    {
        bool is_writable = (descriptor.flags & ring::desc_flag_write) != 0;
        if (!is_writable && seen_writable)
            return QueueErrorKind::ReadableAfterWritable;
        seen_writable |= is_writable;
        // 64-bit sums cannot overflow here; the limit is what a 32-bit used length can report.
        uint64_t& total = is_writable ? writable : readable;
        total += descriptor.length;
        if (total > std::numeric_limits<uint32_t>::max())
            return QueueErrorKind::LengthSumOverflow;
        buffers.push_back({ GuestAddress(descriptor.address), descriptor.length,
            is_writable ? BufferAccess::DeviceWritable : BufferAccess::DeviceReadable });
        return std::nullopt;
    }

    // After the walk, so a malformed chain is reported for its structure first.
    bool all_in_memory() const
    {
        return std::all_of(buffers.begin(), buffers.end(),
            [&](ChainBuffer const& buffer) { return memory.contains(buffer.address, buffer.length); });
    }
};

SplitQueue::SplitQueue(GuestMemory& memory, QueueLayout const& layout, uint64_t features)
    : m_memory(&memory)
    , m_layout(layout)
    , m_event_idx(virtio::has_feature(features, virtio::feature::event_idx))
    , m_indirect(virtio::has_feature(features, virtio::feature::indirect_desc))
{
}

Result<SplitQueue> SplitQueue::create(GuestMemory& memory, QueueLayout const& layout, uint64_t features)
{
    auto size = layout.size;
    if (size == 0 || size > virtio::max_queue_size || !std::has_single_bit(size))
        return fail("virtqueue size " + std::to_string(size) + " is not a power of two between 1 and "
            + std::to_string(virtio::max_queue_size));
    TRY(check_part(memory, "descriptor table", layout.descriptor_table, ring::descriptor_table_size(size),
        ring::descriptor_table_alignment));
    TRY(check_part(
        memory, "available ring", layout.avail_ring, ring::avail_ring_size(size), ring::avail_ring_alignment));
    TRY(check_part(memory, "used ring", layout.used_ring, ring::used_ring_size(size), ring::used_ring_alignment));
    return SplitQueue(memory, layout, features);
}

QueueError SplitQueue::fault(QueueErrorKind kind, std::string detail)
{
    m_broken = QueueError { kind, std::nullopt, std::move(detail) };
    return *m_broken;
}

Unexpected<Error> SplitQueue::used_ring_fault(std::string detail)
{
    // A queue already broken keeps its first fault: that is the one the device reported.
    QueueError error { QueueErrorKind::UsedRingUnwritable, std::nullopt, std::move(detail) };
    if (!m_broken)
        m_broken = error;
    return fail(error.message());
}

std::optional<uint16_t> SplitQueue::load_avail_index()
{
    // Acquire: pairs with the driver's virtio_wmb() between writing avail->ring[] entries and
    // publishing them by storing avail->idx (virtqueue_add_split), so the entries read next are
    // at least as new as the index.
    auto index = m_memory->load<uint16_t>(
        m_layout.avail_ring.unchecked_add(ring::avail_idx_offset), std::memory_order_acquire);
    if (!index)
        return std::nullopt;
    return *index;
}

Result<void> SplitQueue::ask_for_notification_at_next_entry()
{
    if (!is_ready() || !m_event_idx)
        return {};
    auto avail_index = load_avail_index();
    if (!avail_index)
        return fail("virtio queue: avail->idx is unreadable");
    auto written = m_memory->store<uint16_t>(
        m_layout.used_ring.unchecked_add(ring::avail_event_offset(m_layout.size)), *avail_index, std::memory_order_relaxed);
    if (!written)
        return fail("virtio queue: used->avail_event is unwritable");
    // As in pop(): pairs with the driver's virtio_mb() before it loads avail_event.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return {};
}

PopResult SplitQueue::pop()
{
    if (!is_ready())
        return {};
    if (m_broken)
        return *m_broken;

    // The layout was checked at creation and guest memory never shrinks, so these reads only
    // fail if that invariant is broken; they are still handled as a guest fault.
    auto avail_index = load_avail_index();
    if (!avail_index)
        return fault(QueueErrorKind::AvailRingUnreadable, "avail->idx");
    if (*avail_index == m_next_avail && m_event_idx) {
        // Ask for a kick at the next entry, then look again: the driver may have published one
        // after our read but before seeing avail_event, and would then not kick. Relaxed: the
        // fence below orders this store before the second load of avail->idx.
        auto written
            = m_memory->store<uint16_t>(m_layout.used_ring.unchecked_add(ring::avail_event_offset(m_layout.size)),
                m_next_avail, std::memory_order_relaxed);
        if (!written)
            return fault(QueueErrorKind::UsedRingUnwritable, "used->avail_event");
        // Full barrier (a store then a load: acquire/release cannot order that): pairs with the
        // driver's virtio_mb() between storing avail->idx and loading avail_event in
        // virtqueue_kick_prepare_split: either it sees our avail_event and kicks, or we see its
        // new index here.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        avail_index = load_avail_index();
        if (!avail_index)
            return fault(QueueErrorKind::AvailRingUnreadable, "avail->idx");
    }

    uint16_t pending = *avail_index - m_next_avail;
    if (pending == 0)
        return {};
    if (pending > m_layout.size)
        return fault(QueueErrorKind::AvailIndexTooFarAhead,
            "avail->idx " + std::to_string(*avail_index) + ", last seen " + std::to_string(m_next_avail)
                + ", queue size " + std::to_string(m_layout.size));

    uint16_t slot = m_next_avail % m_layout.size;
    auto head = m_memory->read_obj<uint16_t>(m_layout.avail_ring.unchecked_add(ring::avail_entry_offset(slot)));
    if (!head)
        return fault(QueueErrorKind::AvailRingUnreadable, "avail->ring[" + std::to_string(slot) + "]");
    if (*head >= m_layout.size)
        return fault(QueueErrorKind::HeadOutOfRange,
            "head " + std::to_string(*head) + ", queue size " + std::to_string(m_layout.size));
    ++m_next_avail;
    return read_chain(*head);
}

PopResult SplitQueue::read_chain(uint16_t head)
{
    auto chain_error = [&](QueueErrorKind kind, std::string detail = {}) {
        return PopResult(QueueError { kind, head, std::move(detail) });
    };
    ChainBuilder builder { *m_memory, {}, 0, 0, false };
    uint16_t index = head;
    // A chain visits each table entry at most once; more steps than entries means a loop.
    for (uint32_t visited = 1;; ++visited) {
        if (visited > m_layout.size)
            return chain_error(QueueErrorKind::ChainTooLong, std::to_string(m_layout.size) + " descriptors");
        // The one and only read of this descriptor: everything below uses the copy.
        auto address = m_layout.descriptor_table.unchecked_add(uint64_t { index } * sizeof(ring::Descriptor));
        auto descriptor = m_memory->read_obj<ring::Descriptor>(address);
        if (!descriptor)
            return chain_error(QueueErrorKind::DescriptorUnreadable, descriptor.error().message);

        if (descriptor->flags & ring::desc_flag_indirect) {
            if (!m_indirect)
                return chain_error(QueueErrorKind::IndirectNotNegotiated);
            if (visited != 1)
                return chain_error(QueueErrorKind::IndirectNotHead, "descriptor " + std::to_string(index));
            if (descriptor->flags & ring::desc_flag_next)
                return chain_error(QueueErrorKind::IndirectWithNext);
            if (auto error = read_indirect_table(*descriptor, builder))
                return chain_error(*error);
            break;
        }
        if (auto error = builder.append(*descriptor))
            return chain_error(*error, "descriptor " + std::to_string(index));
        if (!(descriptor->flags & ring::desc_flag_next))
            break;
        if (descriptor->next >= m_layout.size)
            return chain_error(QueueErrorKind::NextOutOfRange,
                "descriptor " + std::to_string(index) + " next " + std::to_string(descriptor->next));
        index = descriptor->next;
    }
    if (!builder.all_in_memory())
        return chain_error(QueueErrorKind::BufferOutOfMemory);
    return DescriptorChain(head, std::move(builder.buffers));
}

std::optional<QueueErrorKind> SplitQueue::read_indirect_table(ring::Descriptor const& descriptor, ChainBuilder& builder)
{
    // The WRITE flag of the descriptor naming the table is ignored, as §2.7.5.3.2 requires.
    if (descriptor.length == 0 || descriptor.length % sizeof(ring::Descriptor) != 0)
        return QueueErrorKind::IndirectBadLength;
    uint32_t entries = descriptor.length / sizeof(ring::Descriptor);
    if (entries > max_indirect_descriptors)
        return QueueErrorKind::IndirectTableTooLarge;
    // Copy the whole table once; the walk below never touches guest memory for descriptors.
    std::vector<ring::Descriptor> table(entries);
    auto read = m_memory->read(GuestAddress(descriptor.address),
        std::span(reinterpret_cast<uint8_t*>(table.data()), table.size() * sizeof(ring::Descriptor)));
    if (!read)
        return QueueErrorKind::DescriptorUnreadable;

    uint32_t index = 0;
    for (uint32_t visited = 1;; ++visited) {
        if (visited > entries)
            return QueueErrorKind::ChainTooLong;
        auto const& entry = table[index];
        if (entry.flags & ring::desc_flag_indirect)
            return QueueErrorKind::NestedIndirect;
        if (auto error = builder.append(entry))
            return error;
        if (!(entry.flags & ring::desc_flag_next))
            return std::nullopt;
        if (entry.next >= entries)
            return QueueErrorKind::NextOutOfRange;
        index = entry.next;
    }
}

Result<void> SplitQueue::add_used(uint16_t head, uint32_t length)
{
    TRY(stage_used(head, length));
    return publish_used();
}

Result<void> SplitQueue::stage_used(uint16_t head, uint32_t length)
{
    if (!is_ready())
        return fail("virtqueue is not ready");
    if (head >= m_layout.size)
        return fail(
            "used head " + std::to_string(head) + " out of range for queue size " + std::to_string(m_layout.size));
    uint16_t slot = m_next_used % m_layout.size;
    auto entry = m_memory->write_obj(
        m_layout.used_ring.unchecked_add(ring::used_entry_offset(slot)), ring::UsedElement { head, length });
    if (!entry)
        return used_ring_fault("used->ring[" + std::to_string(slot) + "]");
    ++m_next_used;
    return {};
}

Result<void> SplitQueue::publish_used()
{
    if (!is_ready())
        return fail("virtqueue is not ready");
    if (m_published_used == m_next_used)
        return {};
    // Release: pairs with the driver's virtio_rmb() after loading used->idx and before reading
    // used->ring[] (virtqueue_get_buf_ctx_split), so it never sees the index before the entries
    // it covers, however many were staged.
    auto index = m_memory->store<uint16_t>(
        m_layout.used_ring.unchecked_add(ring::used_idx_offset), m_next_used, std::memory_order_release);
    if (!index)
        return used_ring_fault("used->idx");
    m_published_used = m_next_used;
    return {};
}

bool SplitQueue::needs_notification()
{
    if (!is_ready())
        return false;
    // Full barrier: pairs with the driver's virtio_mb() between re-enabling interrupts (writing
    // used_event or clearing NO_INTERRUPT) and re-reading used->idx (virtqueue_poll): either it
    // sees our new used->idx, or we see its request for an interrupt.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // Relaxed loads below: the fence orders them after our used->idx store, and nothing read
    // afterwards depends on them.
    if (!m_event_idx) {
        auto flags = m_memory->load<uint16_t>(
            m_layout.avail_ring.unchecked_add(ring::avail_flags_offset), std::memory_order_relaxed);
        return !flags || (*flags & ring::avail_flag_no_interrupt) == 0;
    }
    auto used_event = m_memory->load<uint16_t>(
        m_layout.avail_ring.unchecked_add(ring::used_event_offset(m_layout.size)), std::memory_order_relaxed);
    // Used entries added since the last decision; the first window starts at used->idx 0.
    uint16_t old_used = m_signalled_used;
    m_signalled_used = m_published_used;
    if (!used_event)
        return m_published_used != old_used;
    return ring::need_event(*used_event, m_published_used, old_used);
}

} // namespace husk
