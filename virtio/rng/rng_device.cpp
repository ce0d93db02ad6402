// RngDevice: request processing for the virtio entropy device.
#include "virtio/rng/rng_device.hpp"

#include "runtime/base/log.hpp"
#include "virtio/queue/chain_io.hpp"
#include "virtio/queue/queue_batch.hpp"

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
    QueueBatch batch(*m_queue, *m_interrupt, "virtio-rng");
    while (auto chain = batch.next()) {
        bool has_readable = std::any_of(chain->buffers().begin(), chain->buffers().end(),
            [](ChainBuffer const& buffer) { return buffer.access == BufferAccess::DeviceReadable; });
        if (has_readable) {
            // §5.4.6.1: the driver must only post device-writable buffers.
            ++m_stats.requests_rejected;
            batch.complete(chain->head(), 0);
            continue;
        }
        uint32_t used_length = fill_chain(*chain);
        m_stats.bytes_provided += used_length;
        ++m_stats.requests_completed;
        batch.complete(chain->head(), used_length);
    }
    m_stats.requests_rejected += batch.chain_faults();
}

} // namespace husk
