// P9Device: config space and the request loop.
#include "virtio/p9/p9_device.hpp"

#include "virtio/p9/p9_spec.hpp"
#include "virtio/queue/chain_io.hpp"
#include "virtio/queue/queue_batch.hpp"

#include <algorithm>
#include <array>
#include <chrono>

namespace husk {

namespace {
    uint64_t nanoseconds_since(std::chrono::steady_clock::time_point start)
    {
        return static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
    }
} // namespace

P9Device::P9Device(std::string tag, P9Handler& handler)
    : m_handler(handler)
{
    auto length = static_cast<uint16_t>(std::min<size_t>(tag.size(), p9::max_tag_length));
    m_config.assign(2u + length, 0);
    m_config[0] = static_cast<uint8_t>(length & 0xff);
    m_config[1] = static_cast<uint8_t>(length >> 8);
    std::copy_n(tag.data(), length, m_config.data() + 2);
}

uint64_t P9Device::features() const
{
    return virtio::feature_mask(p9::feature::mount_tag) | virtio::feature_mask(virtio::feature::indirect_desc)
        | virtio::feature_mask(virtio::feature::event_idx);
}

void P9Device::read_config(uint64_t offset, std::span<uint8_t> data) const { copy_config(m_config, offset, data); }

Result<void> P9Device::activate(GuestMemory& memory, std::span<SplitQueue> queues, VirtioInterrupt& interrupt, uint64_t)
{
    if (queues.size() != 1)
        return fail("virtio-9p expects 1 queue, got " + std::to_string(queues.size()));
    m_memory = &memory;
    m_queue = &queues[0];
    m_interrupt = &interrupt;
    return {};
}

void P9Device::reset()
{
    m_memory = nullptr;
    m_queue = nullptr;
    m_interrupt = nullptr;
}

// A Twrite worth it keeps its data in guest memory: only the fixed header is copied, and the data
// buffers go to the handler as iovecs for one pwritev (no copy through m_request).
std::optional<size_t> P9Device::serve_write_in_place(DescriptorChain const& chain, std::span<uint8_t> reply)
{
    ChainReader reader(*m_memory, chain);
    uint64_t total = reader.remaining();
    std::array<uint8_t, p9::twrite_header_size> header {};
    if (total < zero_copy_write_minimum || !reader.read(std::span(header)) || header[4] != p9::message::twrite)
        return std::nullopt;
    m_write_data.clear();
    if (!append_io_vectors(
            *m_memory, chain, BufferAccess::DeviceReadable, header.size(), max_io_vectors, m_write_data))
        return std::nullopt;
    auto start = std::chrono::steady_clock::now();
    size_t length = m_handler.handle_write(header, m_write_data, total - header.size(), reply);
    m_stats.writes_in_place.requests++;
    m_stats.writes_in_place.bytes += total - header.size();
    m_stats.writes_in_place.serving_ns += nanoseconds_since(start);
    return length;
}

// A Tread whose reply has room for a page or more: the handler reads into the guest's buffers
// after the Rread header's room, and only the header goes through the device.
std::optional<uint32_t> P9Device::serve_read_in_place(DescriptorChain const& chain)
{
    ChainReader reader(*m_memory, chain);
    std::array<uint8_t, p9::tread_size> request {};
    if (reader.remaining() != request.size() || !reader.read(std::span(request)) || request[4] != p9::message::tread)
        return std::nullopt;
    ChainWriter writer(*m_memory, chain);
    uint64_t room = std::min<uint64_t>(writer.remaining(), m_handler.max_message_size());
    if (room < p9::rread_header_size + zero_copy_read_minimum)
        return std::nullopt;
    m_read_data.clear();
    if (!append_io_vectors(
            *m_memory, chain, BufferAccess::DeviceWritable, p9::rread_header_size, max_io_vectors, m_read_data))
        return std::nullopt;
    std::array<uint8_t, p9::rread_header_size> header {};
    auto start = std::chrono::steady_clock::now();
    auto reply = m_handler.handle_read(request, m_read_data, room - p9::rread_header_size, header);
    m_stats.reads_in_place.requests++;
    m_stats.reads_in_place.bytes += reply.data_bytes;
    m_stats.reads_in_place.serving_ns += nanoseconds_since(start);
    if (reply.header_length == 0 || reply.header_length > header.size()
        || !writer.write(std::span(header).first(reply.header_length)))
        return 0;
    return static_cast<uint32_t>(reply.header_length + reply.data_bytes);
}

uint32_t P9Device::serve(DescriptorChain const& chain)
{
    ChainReader reader(*m_memory, chain);
    uint64_t limit = m_handler.max_message_size();
    if (reader.remaining() > limit || reader.remaining() < p9::header_size)
        return 0;
    if (auto used = serve_read_in_place(chain))
        return *used;
    if (!m_request) {
        m_request = std::make_unique_for_overwrite<uint8_t[]>(limit);
        m_reply = std::make_unique_for_overwrite<uint8_t[]>(limit);
    }
    ChainWriter writer(*m_memory, chain);
    std::span<uint8_t> reply(m_reply.get(), std::min<uint64_t>(writer.remaining(), limit));
    size_t length = 0;
    if (auto written = serve_write_in_place(chain, reply)) {
        length = *written;
    } else {
        std::span<uint8_t> request(m_request.get(), reader.remaining());
        if (!reader.read(request))
            return 0;
        length = m_handler.handle(request, reply);
    }
    if (length == 0 || length > reply.size() || !writer.write(reply.first(length)))
        return 0;
    return static_cast<uint32_t>(writer.bytes_written());
}

void P9Device::queue_notify(uint16_t index)
{
    if (index != 0 || !m_queue || !m_queue->is_ready())
        return;
    QueueBatch batch(*m_queue, *m_interrupt, "virtio-9p");
    while (auto chain = batch.next()) {
        auto start = std::chrono::steady_clock::now();
        uint32_t used = serve(*chain);
        uint64_t took = nanoseconds_since(start);
        m_stats.serving_ns += took;
        m_stats.longest_request_ns = std::max(m_stats.longest_request_ns, took);
        ++(used ? m_stats.requests_served : m_stats.requests_refused);
        batch.complete(chain->head(), used);
    }
    m_stats.requests_refused += batch.chain_faults();
}

} // namespace husk
