// Fuzzes SplitQueue, QueueBatch and ChainReader/ChainWriter with hostile guest memory: the input
// chooses the queue size and features, supplies the initial contents of the rings and buffers,
// then a script of device operations interleaved with guest writes (the guest changes memory
// while the device works). Checks that every chain the queue hands out satisfies the rules of
// docs/security.md, and that a batch ends with NEEDS_RESET exactly when the queue broke.
#include "runtime/base/log.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "virtio/core/virtio_spec.hpp"
#include "virtio/queue/chain_io.hpp"
#include "virtio/queue/queue_batch.hpp"
#include "virtio/queue/split_queue.hpp"
#include "virtio/testing/counting_interrupt_trigger.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <vector>

using namespace husk;

namespace {

constexpr uint64_t memory_size = 0x10000;
constexpr GuestAddress descriptor_table { 0x0000 };
constexpr GuestAddress avail_ring { 0x1000 };
constexpr GuestAddress used_ring { 0x2000 };
constexpr size_t max_operations = 4096;

void check_chain(GuestMemory const& memory, DescriptorChain const& chain, uint16_t queue_size)
{
    require(chain.head() < queue_size);
    require(chain.buffers().size() <= std::max<uint32_t>(queue_size, max_indirect_descriptors));
    require(chain.readable_length() <= UINT32_MAX && chain.writable_length() <= UINT32_MAX);
    bool seen_writable = false;
    for (auto const& buffer : chain.buffers()) {
        require(memory.contains(buffer.address, buffer.length));
        if (buffer.access == BufferAccess::DeviceWritable)
            seen_writable = true;
        else
            require(!seen_writable);
    }
}

// Consumes the chain the way a device would: reads the request, writes a response.
uint32_t serve(GuestMemory& memory, DescriptorChain const& chain, FuzzedDataProvider& input)
{
    ChainReader reader(memory, chain);
    std::array<uint8_t, 512> scratch {};
    uint64_t to_read = std::min<uint64_t>(reader.remaining(), input.ConsumeIntegral<uint16_t>());
    while (to_read > 0) {
        auto count = std::min<uint64_t>(to_read, scratch.size());
        require(reader.read(std::span(scratch).first(count)).has_value());
        to_read -= count;
    }
    ChainWriter writer(memory, chain);
    uint64_t to_write = std::min<uint64_t>(writer.remaining(), input.ConsumeIntegral<uint16_t>());
    while (to_write > 0) {
        auto count = std::min<uint64_t>(to_write, scratch.size());
        require(writer.write(std::span(scratch).first(count)).has_value());
        to_write -= count;
    }
    require(writer.bytes_written() <= chain.writable_length());
    return static_cast<uint32_t>(writer.bytes_written()); // ≤ writable_length() ≤ UINT32_MAX
}

// Serves chains through a QueueBatch, as every device does, until it yields nothing.
void drain(GuestMemory& memory, SplitQueue& queue, FuzzedDataProvider& input)
{
    CountingInterruptTrigger trigger;
    VirtioInterrupt interrupt(trigger);
    bool was_broken = queue.is_broken();
    uint64_t served = 0;
    {
        QueueBatch batch(queue, interrupt, "fuzz");
        while (auto chain = batch.next()) {
            check_chain(memory, *chain, queue.size());
            batch.complete(chain->head(), serve(memory, *chain, input));
            ++served;
        }
        require(batch.stopped() || batch.completed() == served + batch.chain_faults());
        // NEEDS_RESET exactly when this batch met a ring-level fault; an earlier one stays quiet.
        require(batch.stopped() == (queue.is_broken() && !was_broken));
        require(interrupt.needs_reset() == batch.stopped());
    }
    // One notification decision: at most the NEEDS_RESET interrupt and one used-buffer interrupt.
    require(trigger.count() <= 2);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    static auto memory = [] {
        // A NEEDS_RESET warning per broken input would flood the fuzzer's output and slow it.
        set_log_level(LogLevel::Error);
        auto created = GuestMemory::create({ { GuestAddress(0), memory_size } });
        require(created.has_value());
        return std::move(created).value();
    }();
    FuzzedDataProvider input(data, size);

    auto queue_size = static_cast<uint16_t>(1u << input.ConsumeIntegralInRange<unsigned>(0, 8)); // 1 .. 256
    uint64_t features = 0;
    if (input.ConsumeBool())
        features |= virtio::feature_mask(virtio::feature::event_idx);
    if (input.ConsumeBool())
        features |= virtio::feature_mask(virtio::feature::indirect_desc);

    // Initial guest memory: the next bytes from the start, zeros after.
    require(memory.fill(GuestAddress(0), 0, memory_size).has_value());
    auto image = input.ConsumeBytes<uint8_t>(input.ConsumeIntegral<uint16_t>());
    require(memory.write(GuestAddress(0), image).has_value());

    auto created = SplitQueue::create(memory, { queue_size, descriptor_table, avail_ring, used_ring }, features);
    require(created.has_value());
    auto queue = std::move(created).value();

    for (size_t operation = 0; operation < max_operations && input.remaining_bytes() > 0; ++operation) {
        switch (input.ConsumeIntegralInRange<int>(0, 6)) {
        case 0: { // pop and serve
            auto popped = queue.pop();
            if (popped.has_chain()) {
                check_chain(memory, popped.chain(), queue_size);
                auto length = serve(memory, popped.chain(), input);
                require(queue.add_used(popped.chain().head(), length).has_value());
            } else if (popped.has_error()) {
                auto const& error = popped.error();
                require(error.is_fatal() == queue.is_broken());
                if (error.head)
                    require(queue.add_used(*error.head, 0).has_value());
            }
            break;
        }
        case 1: { // device returns an arbitrary head (a device bug must not corrupt memory)
            auto head = input.ConsumeIntegral<uint16_t>();
            auto result = queue.add_used(head, input.ConsumeIntegral<uint32_t>());
            require(result.has_value() == (head < queue_size));
            break;
        }
        case 2:
            (void)queue.needs_notification();
            break;
        case 3: // the guest moves avail->idx
            require(memory
                        .store(avail_ring.unchecked_add(virtio::ring::avail_idx_offset),
                            input.ConsumeIntegral<uint16_t>(), std::memory_order_release)
                        .has_value());
            break;
        case 4: { // the guest rewrites some bytes anywhere in memory
            auto offset = input.ConsumeIntegral<uint16_t>();
            auto bytes = input.ConsumeBytes<uint8_t>(input.ConsumeIntegralInRange<size_t>(0, 63));
            (void)memory.write(GuestAddress(offset), bytes); // may cross the end: must fail cleanly
            break;
        }
        case 5:
            drain(memory, queue, input);
            break;
        case 6: { // a batch as QueueBatch does it: stage what is popped, publish once
            auto published_before = queue.published_used_index();
            auto chains = input.ConsumeIntegralInRange<int>(1, 8);
            for (int i = 0; i < chains; ++i) {
                auto popped = queue.pop();
                if (popped.has_chain())
                    require(queue.stage_used(popped.chain().head(), serve(memory, popped.chain(), input)).has_value());
                else if (popped.has_error() && popped.error().head)
                    require(queue.stage_used(*popped.error().head, 0).has_value());
                else
                    break;
            }
            require(queue.published_used_index() == published_before); // staged, not yet visible
            require(queue.publish_used().has_value());
            require(queue.published_used_index() == queue.next_used_index());
            break;
        }
        }
    }
    return 0;
}
