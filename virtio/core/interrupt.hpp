// Interrupts from a virtio device to the guest. A transport owns one VirtioInterrupt, which keeps
// the InterruptStatus bits and raises the line through an InterruptTrigger: the VMM backs the
// trigger with an irqfd EventFd, tests with a counter. Devices get a reference at activation.
#pragma once

#include "runtime/base/event_fd.hpp"
#include "runtime/base/result.hpp"

#include <atomic>
#include <cstdint>

namespace husk {

namespace virtio::interrupt_status {
    inline constexpr uint32_t used_buffer = 1; // a queue has new used entries
    inline constexpr uint32_t config_change = 2; // the config space or the device status changed
} // namespace virtio::interrupt_status

class InterruptTrigger {
public:
    virtual ~InterruptTrigger() = default;
    // Raises the device's interrupt line once. Called from whichever thread processes the device.
    virtual Result<void> trigger() = 0;
};

// Signals an eventfd, which KVM turns into a guest interrupt when registered as an irqfd.
class EventFdInterruptTrigger final : public InterruptTrigger {
public:
    explicit EventFdInterruptTrigger(EventFd const& event)
        : m_event(event)
    {
    }
    Result<void> trigger() override { return m_event.signal(); }

private:
    EventFd const& m_event;
};

// InterruptStatus and NEEDS_RESET are set by the thread processing queues and read by vCPU
// threads through MMIO, so they are atomics and need no transport lock.
class VirtioInterrupt {
public:
    explicit VirtioInterrupt(InterruptTrigger& trigger)
        : m_trigger(trigger)
    {
    }

    // A queue has new used buffers the driver asked to hear about.
    void signal_used_buffer();
    // The device changed its config space: bumps ConfigGeneration and interrupts.
    void signal_config_change();
    // The guest broke the device's rules beyond per-request recovery (§2.1.1): the device stops
    // until the driver resets it, and the driver learns it via a config-change interrupt.
    void signal_needs_reset();

    uint32_t status() const { return m_status.load(std::memory_order_acquire); }
    void acknowledge(uint32_t bits) { m_status.fetch_and(~bits, std::memory_order_acq_rel); }
    bool needs_reset() const { return m_needs_reset.load(std::memory_order_acquire); }
    uint32_t config_generation() const { return m_config_generation.load(std::memory_order_acquire); }
    uint64_t trigger_failures() const { return m_trigger_failures.load(std::memory_order_relaxed); }

    // Device reset (driver wrote 0 to Status): no pending bits, no NEEDS_RESET.
    void reset();
    // A snapshot's values, without raising the line (the saved interrupt controller state says
    // whether the guest still has to take it).
    void restore(uint32_t status, bool needs_reset, uint32_t config_generation);

private:
    void raise(uint32_t bits);

    InterruptTrigger& m_trigger;
    std::atomic<uint32_t> m_status { 0 };
    std::atomic<bool> m_needs_reset { false };
    std::atomic<uint32_t> m_config_generation { 0 };
    std::atomic<uint64_t> m_trigger_failures { 0 };
};

} // namespace husk
