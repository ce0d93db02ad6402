// VirtioInterrupt: InterruptStatus bookkeeping and line raising.
#include "virtio/core/interrupt.hpp"

#include "runtime/base/log.hpp"

namespace husk {

void VirtioInterrupt::raise(uint32_t bits)
{
    // Publish the status bits before the line goes up: the guest's handler reads InterruptStatus
    // right after taking the interrupt and must see them.
    m_status.fetch_or(bits, std::memory_order_acq_rel);
    auto result = m_trigger.trigger();
    if (!result) {
        // A lost interrupt delays the guest, it does not corrupt anything; keep the VMM running.
        if (m_trigger_failures.fetch_add(1, std::memory_order_relaxed) == 0)
            log_warn("virtio: cannot raise interrupt: " + result.error().message);
    }
}

void VirtioInterrupt::signal_used_buffer() { raise(virtio::interrupt_status::used_buffer); }

void VirtioInterrupt::signal_config_change()
{
    m_config_generation.fetch_add(1, std::memory_order_acq_rel);
    raise(virtio::interrupt_status::config_change);
}

void VirtioInterrupt::signal_needs_reset()
{
    if (m_needs_reset.exchange(true, std::memory_order_acq_rel))
        return; // already reported; one interrupt is enough
    raise(virtio::interrupt_status::config_change);
}

void VirtioInterrupt::reset()
{
    m_status.store(0, std::memory_order_release);
    m_needs_reset.store(false, std::memory_order_release);
    m_config_generation.store(0, std::memory_order_release);
}

void VirtioInterrupt::restore(uint32_t status, bool needs_reset, uint32_t config_generation)
{
    m_status.store(status, std::memory_order_release);
    m_needs_reset.store(needs_reset, std::memory_order_release);
    m_config_generation.store(config_generation, std::memory_order_release);
}

} // namespace husk
