#include "driver_queue.hpp"

#include "arena.hpp"
#include "io.hpp"

namespace guest {

namespace {
    template<typename T>
    T volatile& at(uint64_t address)
    {
        return *reinterpret_cast<T volatile*>(address);
    }
} // namespace

DriverQueue DriverQueue::create(VirtioDevice const& device, uint16_t index, uint16_t size, bool ready)
{
    DriverQueue queue;
    queue.m_device = device;
    queue.m_index = index;
    queue.m_size = size;
    queue.m_descriptors = reinterpret_cast<Descriptor volatile*>(allocate(ring::descriptor_table_size(size), 4096));
    queue.m_avail = allocate(ring::avail_ring_size(size), 4096);
    queue.m_used = allocate(ring::used_ring_size(size), 4096);
    device.configure_queue(
        index, size, reinterpret_cast<uint64_t>(queue.m_descriptors), queue.m_avail, queue.m_used, ready);
    return queue;
}

void DriverQueue::set(uint16_t slot, uint64_t address, uint32_t length, uint16_t flags, uint16_t next)
{
    auto volatile& descriptor = m_descriptors[slot % m_size];
    descriptor.address = address;
    descriptor.length = length;
    descriptor.flags = flags;
    descriptor.next = next;
}

void DriverQueue::stage(uint16_t head)
{
    set_avail_slot(m_next_avail, head);
    ++m_next_avail;
}

void DriverQueue::set_avail_slot(uint16_t slot, uint16_t head)
{
    at<uint16_t>(m_avail + ring::avail_entry_offset(static_cast<uint16_t>(slot % m_size))) = head;
}

void DriverQueue::publish()
{
    // Pairs with the device's read of avail->idx before the slots (x86 keeps stores in order).
    compiler_barrier();
    at<uint16_t>(m_avail + ring::avail_idx_offset) = m_next_avail;
    full_barrier();
}

void DriverQueue::set_avail_index(uint16_t value)
{
    m_next_avail = value;
    publish();
}

void DriverQueue::kick() const { m_device.notify(m_index); }

void DriverQueue::submit(uint16_t head)
{
    stage(head);
    publish();
    kick();
}

volatile uint16_t& DriverQueue::used_index() { return at<uint16_t>(m_used + ring::used_idx_offset); }

volatile UsedElement& DriverQueue::used_element(uint16_t slot)
{
    return at<UsedElement>(m_used + ring::used_entry_offset(static_cast<uint16_t>(slot % m_size)));
}

WaitResult DriverQueue::wait_used(UsedElement& element, uint64_t budget)
{
    uint64_t deadline = now_ns() + budget;
    for (uint64_t spin = 0;; ++spin) {
        if (used_index() != m_last_used) {
            compiler_barrier(); // the entry after the index the device published it with
            auto volatile& used = used_element(m_last_used);
            element.id = used.id;
            element.length = used.length;
            ++m_last_used;
            return WaitResult::Used;
        }
        // A status read is an exit to husk-vmm: only now and then.
        if (spin % 256 == 255) {
            if (m_device.needs_reset())
                return WaitResult::NeedsReset;
            if (now_ns() > deadline)
                return WaitResult::Timeout;
        }
        cpu_relax();
    }
}

WaitResult DriverQueue::wait_for_head(uint16_t head, UsedElement& element, uint64_t budget)
{
    for (;;) {
        auto result = wait_used(element, budget);
        if (result != WaitResult::Used || element.id == head)
            return result;
    }
}

void DriverQueue::drain() { m_last_used = used_index(); }

} // namespace guest
