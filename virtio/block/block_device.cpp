// BlockDevice: features, config space, queue processing and backend completions.
#include "virtio/block/block_device.hpp"

#include "runtime/base/log.hpp"

#include <algorithm>
#include <array>

namespace husk {

namespace blk = virtio::block;

namespace {

    BlockOperation backend_operation(BlockRequestType type)
    {
        switch (type) {
        case BlockRequestType::Write:
            return BlockOperation::Write;
        case BlockRequestType::Flush:
            return BlockOperation::Flush;
        case BlockRequestType::Discard:
            return BlockOperation::Discard;
        case BlockRequestType::WriteZeroes:
            return BlockOperation::WriteZeroes;
        case BlockRequestType::Read:
        case BlockRequestType::GetId: // answered by the device itself
            break;
        }
        return BlockOperation::Read;
    }

} // namespace

BlockDevice::BlockDevice(BlockBackend& backend)
    : m_backend(backend)
    , m_capacity_sectors(backend.size_bytes() >> blk::sector_shift)
{
    m_backend.set_events(this);
}

BlockDevice::~BlockDevice() { m_backend.set_events(nullptr); }

uint64_t BlockDevice::features() const
{
    using virtio::feature_mask;
    uint64_t features = feature_mask(virtio::feature::indirect_desc) | feature_mask(virtio::feature::event_idx)
        | feature_mask(blk::feature::seg_max) | feature_mask(blk::feature::blk_size)
        | feature_mask(blk::feature::flush);
    if (m_backend.is_read_only())
        features |= feature_mask(blk::feature::read_only);
    else if (m_backend.supports_discard())
        features |= feature_mask(blk::feature::discard) | feature_mask(blk::feature::write_zeroes);
    return features;
}

void BlockDevice::read_config(uint64_t offset, std::span<uint8_t> data) const
{
    blk::Config config {};
    config.capacity = m_capacity_sectors;
    config.seg_max = seg_max;
    config.blk_size = blk::sector_size;
    config.max_discard_sectors = max_range_sectors;
    config.max_discard_seg = 1;
    config.discard_sector_alignment = 4096 >> blk::sector_shift; // the host page: hole punching works in pages
    config.max_write_zeroes_sectors = max_range_sectors;
    config.max_write_zeroes_seg = 1;
    config.write_zeroes_may_unmap = 1;
    copy_config(std::span(reinterpret_cast<uint8_t const*>(&config), sizeof config), offset, data);
}

bool BlockDevice::has_requests_in_flight() const
{
    std::lock_guard guard(m_mutex);
    return !m_in_flight.empty();
}

Result<void> BlockDevice::activate(
    GuestMemory& memory, std::span<SplitQueue> queues, VirtioInterrupt& interrupt, uint64_t negotiated_features)
{
    if (queues.size() != 1)
        return fail("virtio-blk expects 1 queue, got " + std::to_string(queues.size()));
    std::lock_guard guard(m_mutex);
    m_memory = &memory;
    m_queue = &queues[0];
    m_interrupt = &interrupt;
    m_limits = BlockDiskLimits {
        .capacity_sectors = m_capacity_sectors,
        .read_only = m_backend.is_read_only(),
        .discard = virtio::has_feature(negotiated_features, blk::feature::discard),
        .write_zeroes = virtio::has_feature(negotiated_features, blk::feature::write_zeroes),
        .max_discard_sectors = max_range_sectors,
        .max_write_zeroes_sectors = max_range_sectors,
    };
    return {};
}

void BlockDevice::reset()
{
    std::lock_guard guard(m_mutex);
    // Requests in flight keep their buffers until the backend reports them; a new generation
    // makes those reports drop them instead of completing into the driver's new rings.
    ++m_generation;
    m_memory = nullptr;
    m_queue = nullptr;
    m_interrupt = nullptr;
}

void BlockDevice::complete(
    QueueBatch& batch, uint16_t head, GuestAddress status_address, uint8_t status, uint64_t written)
{
    // Cannot fail: the status byte lies in a buffer SplitQueue checked against guest memory.
    (void)m_memory->write_obj(status_address, status);
    (status == blk::status::ok ? m_stats.requests_completed : m_stats.requests_failed)++;
    // The data bytes plus the status byte; at most the chain's writable total, which fits 32 bits.
    batch.complete(head, static_cast<uint32_t>(written + 1));
}

bool BlockDevice::write_id(ParsedBlockRequest const& parsed)
{
    std::array<uint8_t, blk::id_length> id {};
    auto name = m_backend.id();
    std::copy_n(name.begin(), std::min<size_t>(name.size(), id.size()), id.begin());
    size_t done = 0;
    for (auto const& segment : parsed.request.data) {
        if (!m_memory->write(segment.address, std::span(id).subspan(done, segment.length)))
            return false;
        done += segment.length;
    }
    return true;
}

void BlockDevice::start(QueueBatch& batch, uint16_t head, ParsedBlockRequest const& parsed)
{
    auto const& request = parsed.request;
    auto status_address = *parsed.status_address;
    if (request.type == BlockRequestType::GetId) {
        bool written = write_id(parsed);
        complete(batch, head, status_address, written ? blk::status::ok : blk::status::io_error,
            written ? blk::id_length : 0);
        return;
    }
    if (request.type != BlockRequestType::Flush && request.length == 0) {
        complete(batch, head, status_address, blk::status::ok, 0); // nothing to move
        return;
    }

    auto in_flight = std::make_unique<InFlight>();
    in_flight->generation = m_generation;
    in_flight->head = head;
    in_flight->status_address = status_address;
    in_flight->type = request.type;
    in_flight->length = request.length;
    in_flight->buffers.reserve(request.data.size());
    for (auto const& segment : request.data) {
        auto vector = m_memory->io_vector(segment.address, segment.length);
        if (!vector) { // unreachable: SplitQueue checked every buffer against guest memory
            complete(batch, head, status_address, blk::status::io_error, 0);
            return;
        }
        in_flight->buffers.push_back(*vector);
    }

    BlockIo io {
        .operation = backend_operation(request.type),
        .offset = request.offset,
        .length = request.length,
        .buffers = in_flight->buffers,
        .unmap = request.unmap,
    };
    uint64_t tag = m_next_tag++;
    auto submitted = m_backend.submit(tag, io);
    if (!submitted) {
        log_warn("virtio-blk: cannot start a request: " + submitted.error().message);
        complete(batch, head, status_address, blk::status::io_error, 0);
        return;
    }
    if (submitted->has_value()) {
        finish(batch, *in_flight, **submitted);
        return;
    }
    m_in_flight.emplace(tag, std::move(in_flight)); // completed by on_block_complete
}

void BlockDevice::finish(QueueBatch& batch, InFlight const& request, BlockResult result)
{
    bool is_transfer = request.type == BlockRequestType::Read || request.type == BlockRequestType::Write;
    bool ok = is_transfer ? result == static_cast<BlockResult>(request.length) : result == 0;
    if (!ok)
        log_debug("virtio-blk: request failed with result " + std::to_string(result));
    uint64_t written = 0;
    if (request.type == BlockRequestType::Read && result > 0) {
        written = static_cast<uint64_t>(result); // what really reached guest memory
        m_stats.bytes_read += written;
    } else if (request.type == BlockRequestType::Write && result > 0) {
        m_stats.bytes_written += static_cast<uint64_t>(result);
    }
    complete(batch, request.head, request.status_address, ok ? blk::status::ok : blk::status::io_error, written);
}

void BlockDevice::queue_notify(uint16_t index)
{
    std::lock_guard guard(m_mutex);
    if (index != 0 || !is_active() || !m_queue->is_ready())
        return;
    QueueBatch batch(*m_queue, *m_interrupt, "virtio-blk");
    while (auto chain = batch.next()) {
        auto parsed = parse_block_request(*m_memory, *chain, m_limits);
        if (!parsed.can_report()) {
            ++m_stats.requests_unreportable;
            batch.complete(chain->head(), 0);
        } else if (!parsed.is_valid()) {
            log_debug(std::string("virtio-blk: rejected request: ") + std::string(parsed.problem));
            complete(batch, chain->head(), *parsed.status_address, parsed.status, 0);
        } else {
            start(batch, chain->head(), parsed);
        }
    }
    m_stats.requests_unreportable += batch.chain_faults();
}

void BlockDevice::on_block_complete(uint64_t tag, BlockResult result)
{
    std::lock_guard guard(m_mutex);
    auto found = m_in_flight.find(tag);
    if (found == m_in_flight.end())
        return; // not ours: a backend bug, nothing to complete
    auto request = std::move(found->second);
    m_in_flight.erase(found);
    if (request->generation != m_generation || !is_active())
        return; // the driver reset the device meanwhile
    // A batch of one: the backend reports completions one at a time.
    QueueBatch batch(*m_queue, *m_interrupt, "virtio-blk");
    finish(batch, *request, result);
}

BlockDeviceStats BlockDevice::stats() const
{
    std::lock_guard guard(m_mutex);
    return m_stats;
}

size_t BlockDevice::requests_in_flight() const
{
    std::lock_guard guard(m_mutex);
    return m_in_flight.size();
}

} // namespace husk
