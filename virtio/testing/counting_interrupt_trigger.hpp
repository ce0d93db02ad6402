// CountingInterruptTrigger: an InterruptTrigger for tests that counts interrupts instead of
// raising them, and can be told to fail like a broken irqfd.
#pragma once

#include "virtio/core/interrupt.hpp"

#include <atomic>
#include <cstdint>

namespace husk {

class CountingInterruptTrigger final : public InterruptTrigger {
public:
    enum class Behaviour { Succeed, Fail };
    explicit CountingInterruptTrigger(Behaviour behaviour = Behaviour::Succeed)
        : m_behaviour(behaviour)
    {
    }

    Result<void> trigger() override
    {
        m_count.fetch_add(1, std::memory_order_relaxed);
        if (m_behaviour == Behaviour::Fail)
            return fail("interrupt line broken (test)");
        return {};
    }
    uint64_t count() const { return m_count.load(std::memory_order_relaxed); }

private:
    Behaviour m_behaviour;
    std::atomic<uint64_t> m_count { 0 };
};

} // namespace husk
