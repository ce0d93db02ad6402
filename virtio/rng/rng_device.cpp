// RngDevice: request processing for the virtio entropy device.
#include "virtio/rng/rng_device.hpp"

#include "runtime/base/log.hpp"
#include "virtio/queue/chain_io.hpp"

#include <algorithm>

namespace husk {

uint64_t RngDevice::features() const
{
    return virtio::feature_mask(virtio::feature::indirect_desc) | virtio::feature_mask(virtio::feature::event_idx);
}

Result<void> RngDevice::activate(
    GuestMemory& memory, std::span<SplitQueue> queues, VirtioInterrupt& interrupt, uint64_t)
{
    if (queues.size() != 1)
        return fail("virtio-rng expects 1 queue, got " + std::to_string(queues.size()));
    m_memory = &memory;
    m_queue = &queues[0];
    m_interrupt = &interrupt;
    return {};
}

void RngDevice::reset()
{
    m_memory = nullptr;
    m_queue = nullptr;
    m_interrupt = nullptr;
}

uint32_t RngDevice::fill_chain(DescriptorChain const& chain)
{
    ChainWriter writer(*m_memory, chain);
    uint64_t wanted = std::min<uint64_t>(writer.remaining(), max_bytes_per_request);
    while (writer.bytes_written() < wanted) {
        auto chunk = std::span(m_chunk).first(std::min<uint64_t>(m_chunk.size(), wanted - writer.bytes_written()));
        auto filled = m_source.fill(chunk);
        if (!filled) {
            // The driver gets what was produced so far (maybe nothing) and asks again.
            if (!m_source_failure_logged)
                log_error("virtio-rng: entropy source failed: " + filled.error().message);
            m_source_failure_logged = true;
            break;
        }
        if (!writer.write(chunk))
            break; // unreachable: the chain's buffers were checked against guest memory at pop
    }
    return static_cast<uint32_t>(writer.bytes_written()); // at most max_bytes_per_request
}

void RngDevice::queue_notify(uint16_t index)
{
    if (index != 0 || !m_queue || !m_queue->is_ready())
        return;
    bool completed_any = false;
    for (;;) {
        auto popped = m_queue->pop();
        if (popped.is_empty())
            break;
        uint16_t head = 0;
        uint32_t used_length = 0;
        if (popped.has_error()) {
            auto const& error = popped.error();
            if (error.is_fatal()) {
                log_warn("virtio-rng: " + error.message() + "; device needs reset");
                m_interrupt->signal_needs_reset();
                break;
            }
            head = *error.head;
            ++m_stats.requests_rejected;
        } else {
            auto& chain = popped.chain();
            head = chain.head();
            bool has_readable = std::any_of(chain.buffers().begin(), chain.buffers().end(),
                [](ChainBuffer const& buffer) { return buffer.access == BufferAccess::DeviceReadable; });
            if (has_readable) {
                // §5.4.6.1: the driver must only post device-writable buffers.
                ++m_stats.requests_rejected;
            } else {
                used_length = fill_chain(chain);
                m_stats.bytes_provided += used_length;
                ++m_stats.requests_completed;
            }
        }
        if (!m_queue->add_used(head, used_length)) {
            m_interrupt->signal_needs_reset(); // unreachable: the used ring was checked at activation
            break;
        }
        completed_any = true;
    }
    if (completed_any && m_queue->needs_notification())
        m_interrupt->signal_used_buffer();
}

} // namespace husk
