// NetDevice: features, config space, and the receive and transmit paths.
#include "virtio/net/net_device.hpp"

#include "runtime/base/log.hpp"
#include "virtio/queue/chain_io.hpp"

#include <algorithm>
#include <cerrno>
#include <cstddef>

namespace husk {

namespace net = virtio::net;

namespace {
    // The kernel's UIO_MAXIOV: a read or write gathers at most this many buffers.
    constexpr size_t max_iovecs = 1024;
    // A backend read that failed is retried after this long, not at once: a tap that keeps
    // failing must not spin the event thread.
    constexpr auto rx_error_backoff = std::chrono::milliseconds(10);

    // Writes `bytes` at byte `offset` of the writable buffers of `chain`, across buffer ends.
    bool write_at(GuestMemory& memory, DescriptorChain const& chain, uint64_t offset, std::span<uint8_t const> bytes)
    {
        ChainCursor cursor(chain, BufferAccess::DeviceWritable);
        while (offset > 0) {
            auto segment = cursor.current(offset);
            if (segment.length == 0)
                return false;
            cursor.advance(segment.length);
            offset -= segment.length;
        }
        while (!bytes.empty()) {
            auto segment = cursor.current(bytes.size());
            if (segment.length == 0 || !memory.write(segment.address, bytes.first(segment.length)))
                return false;
            cursor.advance(segment.length);
            bytes = bytes.subspan(segment.length);
        }
        return true;
    }
} // namespace

NetDevice::NetDevice(NetBackend& backend, NetDeviceConfig config)
    : m_backend(backend)
    , m_config(std::move(config))
    , m_rx_limiter(m_config.rx_limit, m_config.clock())
    , m_tx_limiter(m_config.tx_limit, m_config.clock())
{
    m_backend.set_events(this);
}

NetDevice::~NetDevice() { m_backend.set_events(nullptr); }

uint64_t NetDevice::features() const
{
    using virtio::feature_mask;
    uint64_t features = feature_mask(virtio::feature::indirect_desc) | feature_mask(virtio::feature::event_idx)
        | feature_mask(net::feature::mac) | feature_mask(net::feature::mrg_rxbuf) | feature_mask(net::feature::status);
    if (m_config.offloads == NetOffloads::Offered) {
        features |= feature_mask(net::feature::csum) | feature_mask(net::feature::guest_csum)
            | feature_mask(net::feature::guest_tso4) | feature_mask(net::feature::guest_tso6)
            | feature_mask(net::feature::host_tso4) | feature_mask(net::feature::host_tso6);
    }
    return features;
}

void NetDevice::read_config(uint64_t offset, std::span<uint8_t> data) const
{
    net::Config config {};
    std::copy(m_config.mac.begin(), m_config.mac.end(), config.mac);
    config.status = net::link_status::up;
    copy_config(std::span(reinterpret_cast<uint8_t const*>(&config), sizeof config), offset, data);
}

Result<void> NetDevice::activate(
    GuestMemory& memory, std::span<SplitQueue> queues, VirtioInterrupt& interrupt, uint64_t negotiated_features)
{
    if (queues.size() != 2)
        return fail("virtio-net expects 2 queues, got " + std::to_string(queues.size()));
    std::lock_guard guard(m_mutex);
    m_memory = &memory;
    m_rx = &queues[rx_queue];
    m_tx = &queues[tx_queue];
    m_interrupt = &interrupt;
    m_mergeable = virtio::has_feature(negotiated_features, net::feature::mrg_rxbuf);
    m_tx_offloads = TxOffloads::from_features(negotiated_features);
    // Linux's rule (virtnet_probe): TSO is received only together with partial checksums.
    m_rx_offloads.checksum = virtio::has_feature(negotiated_features, net::feature::guest_csum);
    m_rx_offloads.tso4 = m_rx_offloads.checksum && virtio::has_feature(negotiated_features, net::feature::guest_tso4);
    m_rx_offloads.tso6 = m_rx_offloads.checksum && virtio::has_feature(negotiated_features, net::feature::guest_tso6);
    m_applied_rx_offloads.reset();
    return {};
}

void NetDevice::reset()
{
    std::lock_guard guard(m_mutex);
    // What is still in the backend belongs to the old generation: its reports are dropped. The
    // read's iovecs (m_rx_buffers) stay until it reports; they point into guest memory, which
    // outlives the device.
    ++m_generation;
    m_memory = nullptr;
    m_rx = nullptr;
    m_tx = nullptr;
    m_interrupt = nullptr;
    m_rx_chains.clear();
    m_rx_chain_bytes = 0;
    m_rx_chains_at_ring_tail = 0;
    m_held_tx.reset();
    m_applied_rx_offloads.reset();
}

bool NetDevice::prepare_event_thread()
{
    if (m_receiving && m_receive_generation != m_generation && !m_receive_cancelled) {
        m_backend.cancel_receive();
        m_receive_cancelled = true;
    }
    if (!is_active())
        return false;
    if (!m_applied_rx_offloads) {
        if (auto applied = m_backend.set_receive_offloads(m_rx_offloads); !applied)
            log_warn("virtio-net: cannot set the receive offloads, not receiving: " + applied.error().message);
        else
            m_applied_rx_offloads = m_rx_offloads;
    }
    return true;
}

void NetDevice::queue_notify(uint16_t index)
{
    std::lock_guard guard(m_mutex);
    if (!prepare_event_thread())
        return;
    if (index == rx_queue)
        process_rx();
    else if (index == tx_queue)
        process_tx();
}

uint64_t NetDevice::rx_bytes_wanted() const
{
    bool gso = m_rx_offloads.tso4 || m_rx_offloads.tso6;
    return net::header_size + (gso ? net::max_frame_size : net::max_plain_frame_size);
}

bool NetDevice::gather_rx_chains(QueueBatch& batch)
{
    auto covered = [this] {
        if (m_rx_chains.empty())
            return false;
        // Without MRG_RXBUF a frame goes into one chain; with it, into as many as it needs. A
        // ring too small to cover a whole frame is used as it is.
        return !m_mergeable || m_rx_chain_bytes >= rx_bytes_wanted() || m_rx_chains.size() >= m_rx->size();
    };
    while (!covered()) {
        auto faults_before = batch.chain_faults();
        auto chain = batch.next();
        if (batch.chain_faults() != faults_before)
            m_rx_chains_at_ring_tail = 0; // a faulty chain popped and completed after the held ones
        if (!chain)
            break;
        if (chain->writable_length() < net::header_size) {
            ++m_stats.rx_buffers_too_small;
            batch.complete(chain->head(), 0);
            m_rx_chains_at_ring_tail = 0;
            continue;
        }
        m_rx_chain_bytes += chain->writable_length();
        m_rx_chains.push_back(std::move(*chain));
        ++m_rx_chains_at_ring_tail;
    }
    m_stats.chain_faults += batch.chain_faults();
    return covered();
}

void NetDevice::process_rx()
{
    if (m_paused || !m_applied_rx_offloads || m_receiving || !m_rx->is_ready())
        return;
    auto now = m_config.clock();
    if (!m_rx_limiter.may_start(now)) {
        ++m_stats.rx_throttled;
        arm_timer(m_rx_limiter.time_until(0, now));
        return;
    }
    {
        QueueBatch batch(*m_rx, *m_interrupt, "virtio-net: rx queue");
        if (!gather_rx_chains(batch))
            return; // the guest's next receive kick brings us back
    }
    m_rx_buffers.clear();
    for (auto const& chain : m_rx_chains) {
        if (!append_io_vectors(*m_memory, chain, BufferAccess::DeviceWritable, 0, max_iovecs, m_rx_buffers))
            break; // more than max_iovecs: the frame gets what fits
    }
    if (auto started = m_backend.start_receive(m_rx_buffers); !started) {
        ++m_stats.rx_errors;
        log_warn("virtio-net: cannot start a receive: " + started.error().message);
        arm_timer(rx_error_backoff);
        return;
    }
    m_receiving = true;
    m_receive_generation = m_generation;
    m_receive_cancelled = false;
}

void NetDevice::deliver_rx(QueueBatch& batch, uint64_t length)
{
    size_t used = 0;
    uint64_t remaining = length;
    std::vector<uint32_t> lengths;
    while (remaining > 0 && used < m_rx_chains.size()) {
        auto part = std::min<uint64_t>(remaining, m_rx_chains[used].writable_length());
        lengths.push_back(static_cast<uint32_t>(part));
        remaining -= part;
        ++used;
    }
    // num_buffers (§5.1.6.4): how many chains the frame spans; 1 without MRG_RXBUF. The tap
    // leaves these two bytes of the header alone.
    uint16_t buffers = m_mergeable ? static_cast<uint16_t>(used) : 1;
    std::array<uint8_t, 2> field { static_cast<uint8_t>(buffers), static_cast<uint8_t>(buffers >> 8) };
    (void)write_at(*m_memory, m_rx_chains.front(), offsetof(net::Header, num_buffers), field);
    for (size_t index = 0; index < used; ++index) {
        batch.complete(m_rx_chains[index].head(), lengths[index]);
        m_rx_chain_bytes -= m_rx_chains[index].writable_length();
    }
    m_rx_chains.erase(m_rx_chains.begin(), m_rx_chains.begin() + static_cast<ptrdiff_t>(used));
    m_rx_chains_at_ring_tail = std::min(m_rx_chains_at_ring_tail, m_rx_chains.size());
}

void NetDevice::on_net_received(int64_t result)
{
    std::lock_guard guard(m_mutex);
    m_receiving = false;
    bool current = m_receive_generation == m_generation && is_active();
    if (!prepare_event_thread())
        return;
    if (!current) { // the driver reset the device meanwhile: whatever was read is dropped
        process_rx();
        return;
    }
    uint64_t posted = 0;
    for (auto const& buffer : m_rx_buffers)
        posted += buffer.iov_len;
    if (result == -ECANCELED) {
        // Nothing was read; read again below.
    } else if (result < static_cast<int64_t>(net::header_size)) {
        ++m_stats.rx_errors;
        log_debug("virtio-net: receive failed with result " + std::to_string(result));
        arm_timer(rx_error_backoff);
        return;
    } else if (static_cast<uint64_t>(result) > posted) {
        ++m_stats.rx_truncated; // the chains were only written to, never returned: reused
    } else {
        auto frame_bytes = static_cast<uint64_t>(result) - net::header_size;
        QueueBatch batch(*m_rx, *m_interrupt, "virtio-net: rx queue");
        deliver_rx(batch, static_cast<uint64_t>(result));
        ++m_stats.rx_frames;
        m_stats.rx_bytes += frame_bytes;
        m_rx_limiter.charge(frame_bytes, m_config.clock());
    }
    process_rx();
}

void NetDevice::process_tx()
{
    if (m_paused || !m_tx->is_ready())
        return;
    QueueBatch batch(*m_tx, *m_interrupt, "virtio-net: tx queue");
    while (m_tx_in_flight.size() < max_tx_in_flight) {
        std::optional<DescriptorChain> chain;
        if (m_held_tx) {
            chain = std::move(m_held_tx);
            m_held_tx.reset();
        } else {
            chain = batch.next();
        }
        if (!chain || !start_tx(batch, std::move(*chain)))
            break;
    }
    m_stats.chain_faults += batch.chain_faults();
}

bool NetDevice::start_tx(QueueBatch& batch, DescriptorChain chain)
{
    auto refuse = [&](TxFrameProblem problem) {
        ++m_stats.tx_malformed;
        m_stats.last_tx_problem = problem;
        log_debug("virtio-net: dropped a transmit frame: " + std::string(tx_frame_problem_name(problem)));
        batch.complete(chain.head(), 0);
        return true;
    };
    ChainReader reader(*m_memory, chain);
    auto header = reader.read_obj<net::Header>();
    if (!header)
        return refuse(TxFrameProblem::ShortFrame);
    uint64_t frame_bytes = chain.readable_length() - net::header_size;
    if (auto problem = check_tx_frame(*header, frame_bytes, m_tx_offloads); problem != TxFrameProblem::None)
        return refuse(problem);

    auto now = m_config.clock();
    if (!m_tx_limiter.consume(frame_bytes, now)) {
        ++m_stats.tx_throttled;
        arm_timer(m_tx_limiter.time_until(frame_bytes, now));
        m_held_tx = std::move(chain);
        return false;
    }

    auto in_flight = std::make_unique<TxInFlight>();
    in_flight->generation = m_generation;
    in_flight->head = chain.head();
    in_flight->frame_bytes = frame_bytes;
    // The backend sends this checked copy, not the guest's header, which the guest could rewrite
    // between the check and the write.
    in_flight->header = *header;
    in_flight->header.num_buffers = 0;
    in_flight->buffers.push_back(iovec { &in_flight->header, sizeof(net::Header) });
    if (!append_io_vectors(
            *m_memory, chain, BufferAccess::DeviceReadable, net::header_size, max_iovecs, in_flight->buffers))
        return refuse(TxFrameProblem::OversizedFrame); // more pieces than one write takes

    uint64_t tag = m_next_tag++;
    if (auto started = m_backend.start_transmit(tag, in_flight->buffers); !started) {
        ++m_stats.tx_errors;
        log_warn("virtio-net: cannot start a transmit: " + started.error().message);
        batch.complete(chain.head(), 0);
        return true;
    }
    m_tx_in_flight.emplace(tag, std::move(in_flight));
    return true;
}

void NetDevice::on_net_transmitted(uint64_t tag, int64_t result)
{
    std::lock_guard guard(m_mutex);
    auto found = m_tx_in_flight.find(tag);
    if (found == m_tx_in_flight.end())
        return; // not ours: a backend bug, nothing to complete
    auto request = std::move(found->second);
    m_tx_in_flight.erase(found);
    if (!prepare_event_thread() || request->generation != m_generation)
        return; // the driver reset the device meanwhile
    if (result < 0) {
        ++m_stats.tx_errors;
        log_debug("virtio-net: transmit failed with result " + std::to_string(result));
    } else {
        ++m_stats.tx_frames;
        m_stats.tx_bytes += request->frame_bytes;
    }
    {
        // Transmit buffers are only read: used length 0 (§5.1.6.2).
        QueueBatch batch(*m_tx, *m_interrupt, "virtio-net: tx queue");
        batch.complete(request->head, 0);
    }
    process_tx(); // chains that waited for a free slot
}

void NetDevice::on_net_timer()
{
    std::lock_guard guard(m_mutex);
    // Any timer firing serves both directions; a later one still pending then finds little to do.
    if (m_timer_deadline && m_config.clock() >= *m_timer_deadline)
        m_timer_deadline.reset();
    if (!prepare_event_thread())
        return;
    process_tx();
    process_rx();
}

void NetDevice::arm_timer(std::chrono::nanoseconds delay)
{
    delay = std::max(delay, std::chrono::nanoseconds(1));
    auto deadline = m_config.clock() + delay;
    // One direction's long wait must not hold up the other's short one: a sooner deadline gets
    // a timer of its own.
    if (m_timer_deadline && *m_timer_deadline <= deadline)
        return;
    if (auto started = m_backend.start_timer(delay); !started) {
        log_warn("virtio-net: cannot arm the retry timer: " + started.error().message);
        return;
    }
    m_timer_deadline = deadline;
}

bool NetDevice::has_requests_in_flight() const
{
    std::lock_guard guard(m_mutex);
    return m_receiving || !m_tx_in_flight.empty();
}

void NetDevice::begin_pause()
{
    std::lock_guard guard(m_mutex);
    m_paused = true;
    // A read of a quiet tap never ends by itself. What it reports after the cancel (-ECANCELED,
    // or a frame it had read meanwhile, which is delivered) ends the wait.
    if (m_receiving && !m_receive_cancelled) {
        m_backend.cancel_receive();
        m_receive_cancelled = true;
    }
}

void NetDevice::end_pause()
{
    std::lock_guard guard(m_mutex);
    m_paused = false;
    if (!prepare_event_thread())
        return;
    process_tx();
    process_rx();
}

void NetDevice::prepare_snapshot()
{
    std::lock_guard guard(m_mutex);
    if (!is_active())
        return;
    // Chains popped last are un-popped: the restored device (or this one, resumed) pops them
    // again. Older ones, with a chain completed after them, cannot be; they go back empty, which
    // Linux counts as a short frame and replaces with a fresh buffer.
    size_t returned_empty = m_rx_chains.size() - m_rx_chains_at_ring_tail;
    if (returned_empty > 0) {
        QueueBatch batch(*m_rx, *m_interrupt, "virtio-net: rx queue");
        for (size_t index = 0; index < returned_empty; ++index)
            batch.complete(m_rx_chains[index].head(), 0);
    }
    m_rx->give_back(static_cast<uint16_t>(m_rx_chains_at_ring_tail));
    m_rx_chains.clear();
    m_rx_chain_bytes = 0;
    m_rx_chains_at_ring_tail = 0;
    // A held transmit is always the last chain popped from its ring (process_tx stops there).
    if (m_held_tx) {
        m_tx->give_back(1);
        m_held_tx.reset();
    }
}

void NetDevice::restore_mac(MacAddress const& mac)
{
    std::lock_guard guard(m_mutex);
    m_config.mac = mac;
}

MacAddress NetDevice::mac() const
{
    std::lock_guard guard(m_mutex);
    return m_config.mac;
}

NetDeviceStats NetDevice::stats() const
{
    std::lock_guard guard(m_mutex);
    return m_stats;
}

std::optional<RxOffloads> NetDevice::applied_rx_offloads() const
{
    std::lock_guard guard(m_mutex);
    return m_applied_rx_offloads;
}

size_t NetDevice::held_rx_chains() const
{
    std::lock_guard guard(m_mutex);
    return m_rx_chains.size();
}

bool NetDevice::is_receiving() const
{
    std::lock_guard guard(m_mutex);
    return m_receiving;
}

} // namespace husk
