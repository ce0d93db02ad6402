// Driver side of one split virtqueue (virtio 1.2 §2.7) that does whatever it is told: any
// descriptor contents, any avail index, writes to the used ring. Single-threaded, polled (the
// guest runs with interrupts off).
#pragma once

#include "clock.hpp"
#include "virtio/queue/ring_layout.hpp"
#include "virtio_device.hpp"

#include <cstdint>

namespace guest {

namespace ring = husk::virtio::ring;
using Descriptor = ring::Descriptor;
using UsedElement = ring::UsedElement;

inline constexpr uint16_t flag_next = ring::desc_flag_next;
inline constexpr uint16_t flag_write = ring::desc_flag_write;
inline constexpr uint16_t flag_indirect = ring::desc_flag_indirect;

enum class WaitResult { Used, NeedsReset, Timeout };

// How long to wait for the device, in nanoseconds of guest time. Generous: under the lab's TCG
// the device's event thread may be slow to run; a case that expects nothing waits briefly.
inline constexpr uint64_t default_wait_budget = 10'000 * milliseconds;
inline constexpr uint64_t short_wait_budget = 50 * milliseconds;

class DriverQueue {
public:
    DriverQueue() = default;
    // Allocates the three parts (page-aligned descriptor table) and writes the queue registers.
    static DriverQueue create(VirtioDevice const& device, uint16_t index, uint16_t size, bool ready = true);

    uint16_t index() const { return m_index; }
    uint16_t size() const { return m_size; }
    uint64_t descriptor_address() const { return reinterpret_cast<uint64_t>(m_descriptors); }
    uint64_t avail_address() const { return m_avail; }
    uint64_t used_address() const { return m_used; }
    bool exists() const { return m_descriptors != nullptr; }

    void set(uint16_t slot, uint64_t address, uint32_t length, uint16_t flags = 0, uint16_t next = 0);
    // Puts `head` in the next avail slot without publishing it.
    void stage(uint16_t head);
    // Makes everything staged visible (avail->idx) without a kick.
    void publish();
    void kick() const;
    // stage + publish + kick.
    void submit(uint16_t head);

    // Raw ring access for the cases that lie about indices or scribble on the device's ring.
    uint16_t next_avail() const { return m_next_avail; }
    void set_avail_index(uint16_t value);
    void set_avail_slot(uint16_t slot, uint16_t head);
    volatile uint16_t& used_index();
    volatile UsedElement& used_element(uint16_t slot);

    // Waits for the next used entry; NeedsReset as soon as the device says so.
    WaitResult wait_used(UsedElement& element, uint64_t budget = default_wait_budget);
    // Consumes used entries until the one for `head` (entries of earlier, faulty requests are
    // skipped).
    WaitResult wait_for_head(uint16_t head, UsedElement& element, uint64_t budget = default_wait_budget);
    // Consumes whatever the device has returned so far.
    void drain();

private:
    VirtioDevice m_device;
    uint16_t m_index { 0 };
    uint16_t m_size { 0 };
    Descriptor volatile* m_descriptors { nullptr };
    uint64_t m_avail { 0 };
    uint64_t m_used { 0 };
    uint16_t m_next_avail { 0 };
    uint16_t m_last_used { 0 };
};

} // namespace guest
