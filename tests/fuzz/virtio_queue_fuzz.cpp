// Fuzzes SplitQueue and ChainReader/ChainWriter with hostile guest memory: the input chooses the
// queue size and features, supplies the initial contents of the rings and buffers, then a script
// of device operations interleaved with guest writes (the guest changes memory while the device
// works). Checks that every chain the queue hands out satisfies the rules of DESIGN.md §3.
#include "virtio/core/virtio_spec.hpp"
#include "virtio/queue/chain_io.hpp"
#include "virtio/queue/split_queue.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>

using namespace husk;

namespace {

constexpr uint64_t memory_size = 0x10000;
constexpr GuestAddress descriptor_table { 0x0000 };
constexpr GuestAddress avail_ring { 0x1000 };
constexpr GuestAddress used_ring { 0x2000 };
constexpr size_t max_operations = 4096;

// Reads the input front to back; exhausted input yields zeros.
class Input {
public:
    explicit Input(std::span<uint8_t const> data)
        : m_data(data)
    {
    }
    bool empty() const { return m_data.empty(); }
    template<typename T>
    T take()
    {
        T value {};
        size_t count = std::min(sizeof(T), m_data.size());
        std::memcpy(&value, m_data.data(), count);
        m_data = m_data.subspan(count);
        return value;
    }
    std::span<uint8_t const> take_bytes(size_t count)
    {
        count = std::min(count, m_data.size());
        auto bytes = m_data.first(count);
        m_data = m_data.subspan(count);
        return bytes;
    }

private:
    std::span<uint8_t const> m_data;
};

void check(bool condition)
{
    if (!condition)
        std::abort();
}

void check_chain(GuestMemory const& memory, DescriptorChain const& chain, uint16_t queue_size)
{
    check(chain.head() < queue_size);
    check(chain.buffers().size() <= std::max<uint32_t>(queue_size, max_indirect_descriptors));
    check(chain.readable_length() <= UINT32_MAX && chain.writable_length() <= UINT32_MAX);
    bool seen_writable = false;
    for (auto const& buffer : chain.buffers()) {
        check(memory.contains(buffer.address, buffer.length));
        if (buffer.access == BufferAccess::DeviceWritable)
            seen_writable = true;
        else
            check(!seen_writable);
    }
}

// Consumes the chain the way a device would: reads the request, writes a response.
uint32_t serve(GuestMemory& memory, DescriptorChain const& chain, Input& input)
{
    ChainReader reader(memory, chain);
    std::array<uint8_t, 512> scratch {};
    uint64_t to_read = std::min<uint64_t>(reader.remaining(), input.take<uint16_t>());
    while (to_read > 0) {
        auto count = std::min<uint64_t>(to_read, scratch.size());
        check(reader.read(std::span(scratch).first(count)).has_value());
        to_read -= count;
    }
    ChainWriter writer(memory, chain);
    uint64_t to_write = std::min<uint64_t>(writer.remaining(), input.take<uint16_t>());
    while (to_write > 0) {
        auto count = std::min<uint64_t>(to_write, scratch.size());
        check(writer.write(std::span(scratch).first(count)).has_value());
        to_write -= count;
    }
    check(writer.bytes_written() <= chain.writable_length());
    return static_cast<uint32_t>(writer.bytes_written()); // ≤ writable_length() ≤ UINT32_MAX
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    static auto memory = [] {
        auto created = GuestMemory::create({ { GuestAddress(0), memory_size } });
        check(created.has_value());
        return std::move(created).value();
    }();
    Input input({ data, size });

    uint16_t queue_size = uint16_t { 1 } << (input.take<uint8_t>() % 9); // 1 .. 256
    uint8_t feature_choice = input.take<uint8_t>();
    uint64_t features = 0;
    if (feature_choice & 1)
        features |= virtio::feature_mask(virtio::feature::event_idx);
    if (feature_choice & 2)
        features |= virtio::feature_mask(virtio::feature::indirect_desc);

    // Initial guest memory: the next bytes from the start, zeros after.
    check(memory.fill(GuestAddress(0), 0, memory_size).has_value());
    uint16_t image_size = input.take<uint16_t>();
    check(memory.write(GuestAddress(0), input.take_bytes(image_size)).has_value());

    auto created = SplitQueue::create(memory, { queue_size, descriptor_table, avail_ring, used_ring }, features);
    check(created.has_value());
    auto queue = std::move(created).value();

    for (size_t operation = 0; operation < max_operations && !input.empty(); ++operation) {
        switch (input.take<uint8_t>() % 5) {
        case 0: { // pop and serve
            auto popped = queue.pop();
            if (popped.has_chain()) {
                check_chain(memory, popped.chain(), queue_size);
                auto length = serve(memory, popped.chain(), input);
                check(queue.add_used(popped.chain().head(), length).has_value());
            } else if (popped.has_error()) {
                auto const& error = popped.error();
                check(error.is_fatal() == queue.is_broken());
                if (error.head)
                    check(queue.add_used(*error.head, 0).has_value());
            }
            break;
        }
        case 1: { // device returns an arbitrary head (a device bug must not corrupt memory)
            auto head = input.take<uint16_t>();
            auto result = queue.add_used(head, input.take<uint32_t>());
            check(result.has_value() == (head < queue_size));
            break;
        }
        case 2:
            (void)queue.needs_notification();
            break;
        case 3: { // the guest moves avail->idx
            check(memory.write_obj(avail_ring.unchecked_add(virtio::ring::avail_idx_offset), input.take<uint16_t>())
                      .has_value());
            break;
        }
        case 4: { // the guest rewrites some bytes anywhere in memory
            uint16_t offset = input.take<uint16_t>();
            auto bytes = input.take_bytes(input.take<uint8_t>() % 64);
            (void)memory.write(GuestAddress(offset), bytes); // may cross the end: must fail cleanly
            break;
        }
        }
    }
    return 0;
}
