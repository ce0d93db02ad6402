// QueueBatch: pop, fault triage, used-ring returns and the per-batch notification decision.
#include "virtio/queue/queue_batch.hpp"

#include "runtime/base/log.hpp"

namespace husk {

std::optional<DescriptorChain> QueueBatch::next()
{
    if (m_stopped || m_queue.is_broken())
        return std::nullopt;
    for (;;) {
        auto popped = m_queue.pop();
        if (popped.is_empty())
            return std::nullopt;
        if (popped.has_chain())
            return std::move(popped.chain());
        auto const& error = popped.error();
        if (error.is_fatal()) {
            stop(error.message());
            return std::nullopt;
        }
        // The request is known by its head: answer it empty, so the driver can reclaim it.
        ++m_chain_faults;
        complete(*error.head, 0);
        if (m_stopped)
            return std::nullopt;
    }
}

void QueueBatch::complete(uint16_t head, uint32_t written)
{
    // Staged: the driver sees the whole batch's entries at once, in finish().
    auto added = m_queue.stage_used(head, written);
    if (!added) {
        // Unreachable through a well-built queue (its rings were checked at activation), but
        // the device cannot go on without a used ring either way.
        // A used ring the guest's memory does not hold reads "used ring unwritable" here.
        stop(added.error().message);
        return;
    }
    ++m_completed;
}

void QueueBatch::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    if (m_completed == 0)
        return;
    // One used->idx store for the batch, then one decision: what was completed before a
    // ring-level fault is still announced.
    if (auto published = m_queue.publish_used(); !published) {
        if (!m_stopped)
            stop(published.error().message);
        return;
    }
    if (m_queue.needs_notification())
        m_interrupt.signal_used_buffer();
}

void QueueBatch::stop(std::string const& why)
{
    log_warn(std::string(m_label) + ": " + why + "; device needs reset");
    m_interrupt.signal_needs_reset();
    m_stopped = true;
}

} // namespace husk
