// StreamNetBackend: recv into the deframer and copy frames out to the guest; writev of queued
// frames behind their length prefixes.
#include "runtime/net/stream_net_backend.hpp"

#include "runtime/base/log.hpp"
#include "virtio/net/net_spec.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <poll.h>

namespace husk {

namespace net = virtio::net;

namespace {
    // The kernel's UIO_MAXIOV: one writev takes at most this many pieces.
    constexpr size_t max_write_pieces = 1024;
    // The bytes of one writev after its first frame. An AF_UNIX stream write that fits in one
    // socket buffer (skb) is written whole or refused with EAGAIN, never in part; Linux sizes a
    // unix stream skb up to a page's head plus 32 KiB of fragments, and half the socket's send
    // buffer (208 KiB by default). Writes of whole frames keep the peer's reads at frame
    // boundaries: Debian bookworm's passt (2023-03) loses the stream when a read ends inside or
    // right after a length prefix (it drops those bytes), which resets the guest's connections
    // after a few MiB of upload once the socket buffer fills. A single frame larger than this
    // (an MTU above 32 KiB) still goes alone and may be written in part.
    constexpr uint64_t whole_write_bytes = 32 * 1024;
} // namespace

std::vector<IoOpcode> net_stream_backend_opcodes() { return { IoOpcode::Recv, IoOpcode::WriteV, IoOpcode::Timeout }; }

Result<std::unique_ptr<StreamNetBackend>> StreamNetBackend::create(EventLoop& loop, int fd)
{
    auto file = TRY_CONTEXT(loop.register_file(fd), "network stream");
    return std::unique_ptr<StreamNetBackend>(new StreamNetBackend(loop, file));
}

StreamNetBackend::StreamNetBackend(EventLoop& loop, FixedFile file)
    : m_loop(loop)
    , m_file(file)
    , m_deframer(std::make_shared<StreamDeframer>(net::max_frame_size))
{
}

StreamNetBackend::~StreamNetBackend()
{
    m_completions.revoke();
    if (m_recv)
        (void)m_loop.cancel(*m_recv);
    if (auto unregistered = m_loop.unregister_file(m_file); !unregistered)
        log_warn("virtio-net: " + unregistered.error().message);
}

Result<void> StreamNetBackend::set_receive_offloads(RxOffloads offloads)
{
    if (offloads != RxOffloads {})
        return fail("a network stream carries no virtio-net header: it cannot take receive offloads");
    return {};
}

Result<void> StreamNetBackend::start_receive(std::span<iovec const> buffers)
{
    if (m_receive_pending)
        return fail("a receive is already in flight");
    m_receive_buffers = buffers;
    m_receive_pending = true;
    m_receive_cancelled = false;
    advance_receive(Report::Deferred);
    return {};
}

void StreamNetBackend::cancel_receive()
{
    if (!m_receive_pending)
        return;
    m_receive_cancelled = true;
    if (m_recv)
        (void)m_loop.cancel(*m_recv); // reports -ECANCELED, or the bytes it had read
    else
        advance_receive(Report::Deferred);
}

void StreamNetBackend::advance_receive(Report when)
{
    if (!m_receive_pending || m_report_timer)
        return;
    bool reportable = m_deframer->peek().status == StreamDeframer::Status::Frame
        || (m_link_down && !m_link_down_reported) || m_receive_cancelled;
    if (reportable) {
        if (when == Report::Now) {
            report_receive();
            return;
        }
        auto timer = m_loop.timeout(std::chrono::nanoseconds(0), m_completions.bind([](StreamNetBackend& self, int) {
            self.m_report_timer.reset();
            self.report_receive();
        }));
        if (timer) {
            m_report_timer = *timer;
            return;
        }
        log_warn("virtio-net: cannot defer a receive report: " + timer.error().message);
        return;
    }
    if (m_link_down || m_recv)
        return; // a link that is down stays quiet until the receive is cancelled
    auto space = m_deframer->free_space();
    std::shared_ptr<StreamDeframer> keep_alive = m_deframer;
    auto recv = m_loop.recv(m_file, space, 0,
        m_completions.bind([keep_alive](StreamNetBackend& self, int result) { self.on_recv(result); }));
    if (!recv) {
        log_warn("virtio-net: cannot read the network stream: " + recv.error().message);
        return;
    }
    m_recv = *recv;
}

void StreamNetBackend::on_recv(int result)
{
    m_recv.reset();
    if (result > 0) {
        m_deframer->commit(static_cast<size_t>(result));
        if (auto next = m_deframer->peek(); next.status == StreamDeframer::Status::Broken)
            take_link_down(EPROTO,
                "the peer sent a frame length of " + std::to_string(next.declared_length) + " (1.."
                    + std::to_string(m_deframer->max_frame_length()) + " expected): the stream is out of step");
    } else if (result == 0) {
        take_link_down(ECONNRESET, "the peer closed the network stream");
    } else if (result != -EAGAIN && result != -EINTR && result != -ECANCELED) {
        take_link_down(-result, "reading the network stream failed: " + std::string(std::strerror(-result)));
    }
    advance_receive(Report::Now);
}

void StreamNetBackend::report_receive()
{
    if (!m_receive_pending)
        return;
    int64_t result = 0;
    auto next = m_deframer->peek();
    if (next.status == StreamDeframer::Status::Frame) {
        result = copy_frame_to_guest(next.frame);
        m_deframer->pop();
    } else if (m_link_down && !m_link_down_reported) {
        m_link_down_reported = true;
        result = -m_link_down_error;
    } else if (m_receive_cancelled) {
        result = -ECANCELED;
    } else {
        advance_receive(Report::Now); // nothing to report after all: read on
        return;
    }
    m_receive_pending = false;
    m_receive_cancelled = false;
    if (m_events)
        m_events->on_net_received(result);
}

int64_t StreamNetBackend::copy_frame_to_guest(std::span<uint8_t const> frame) const
{
    // A zeroed virtio-net header (no checksum or GSO information: the frame is complete);
    // the device fills in num_buffers.
    net::Header header {};
    std::span<uint8_t const> parts[] { { reinterpret_cast<uint8_t const*>(&header), sizeof header }, frame };
    size_t part = 0;
    size_t part_offset = 0;
    for (auto const& buffer : m_receive_buffers) {
        size_t filled = 0;
        while (filled < buffer.iov_len && part < std::size(parts)) {
            auto source = parts[part].subspan(part_offset);
            auto count = std::min(source.size(), buffer.iov_len - filled);
            std::memcpy(static_cast<uint8_t*>(buffer.iov_base) + filled, source.data(), count);
            filled += count;
            part_offset += count;
            if (part_offset == parts[part].size()) {
                ++part;
                part_offset = 0;
            }
        }
        if (part == std::size(parts))
            break;
    }
    // The full length even when it did not fit: the device sees the frame was cut.
    return static_cast<int64_t>(sizeof header + frame.size());
}

void StreamNetBackend::take_link_down(int error, std::string const& why)
{
    if (m_link_down)
        return;
    m_link_down = true;
    m_link_down_error = error;
    log_warn("virtio-net: " + why + "; the guest's link is down from now on");
    if (!m_writing)
        fail_queued_transmits(EPIPE);
}

Result<void> StreamNetBackend::start_transmit(uint64_t tag, std::span<iovec const> buffers)
{
    Transmit transmit;
    transmit.tag = tag;
    uint64_t skip = net::header_size;
    for (auto const& buffer : buffers) {
        transmit.reported += buffer.iov_len;
        if (skip >= buffer.iov_len) {
            skip -= buffer.iov_len;
            continue;
        }
        transmit.frame.push_back(
            iovec { static_cast<uint8_t*>(buffer.iov_base) + skip, buffer.iov_len - static_cast<size_t>(skip) });
        skip = 0;
    }
    uint64_t frame_length = transmit.reported - std::min<uint64_t>(transmit.reported, net::header_size);
    if (skip > 0 || frame_length == 0 || frame_length > m_deframer->max_frame_length())
        return fail("a transmit of " + std::to_string(frame_length) + " frame bytes cannot go on the stream");
    if (transmit.frame.size() + 1 > max_write_pieces)
        return fail("a transmit in " + std::to_string(transmit.frame.size()) + " pieces cannot go on the stream");
    for (size_t i = 0; i < transmit.prefix.size(); ++i)
        transmit.prefix[i] = static_cast<uint8_t>(frame_length >> (8 * (transmit.prefix.size() - 1 - i)));
    transmit.length = transmit.prefix.size() + frame_length;

    if (m_link_down) {
        // Reported later, as every completion is.
        TRY(m_loop.timeout(std::chrono::nanoseconds(0), m_completions.bind([tag](StreamNetBackend& self, int) {
            if (self.m_events)
                self.m_events->on_net_transmitted(tag, -EPIPE);
        })));
        return {};
    }
    m_transmits.push_back(std::move(transmit));
    if (!m_writing)
        write_queued();
    return {};
}

void StreamNetBackend::write_queued()
{
    if (m_transmits.empty() || m_writing)
        return;
    auto batch = std::make_shared<WriteBatch>();
    batch->prefixes.reserve(m_transmits.size()); // the pieces point into it: no reallocation
    uint64_t skip = m_front_written;
    uint64_t batch_bytes = 0;
    for (auto const& transmit : m_transmits) {
        if (batch->pieces.size() + 1 + transmit.frame.size() > max_write_pieces)
            break;
        uint64_t bytes = transmit.length - (batch->pieces.empty() ? m_front_written : 0);
        if (!batch->pieces.empty() && batch_bytes + bytes > whole_write_bytes)
            break;
        batch_bytes += bytes;
        batch->prefixes.push_back(transmit.prefix);
        auto& prefix = batch->prefixes.back();
        auto add = [&](void* base, size_t length) {
            if (skip >= length) {
                skip -= length;
                return;
            }
            batch->pieces.push_back(iovec { static_cast<uint8_t*>(base) + skip, length - static_cast<size_t>(skip) });
            skip = 0;
        };
        add(prefix.data(), prefix.size());
        for (auto const& piece : transmit.frame)
            add(piece.iov_base, piece.iov_len);
    }
    auto written = m_loop.writev(m_file, batch->pieces, stream_offset,
        m_completions.bind([batch](StreamNetBackend& self, int result) { self.on_written(result); }));
    if (!written) {
        log_warn("virtio-net: cannot write to the network stream: " + written.error().message);
        m_writing = true; // reported through the timer below, never from here
        auto timer = m_loop.timeout(std::chrono::nanoseconds(0),
            m_completions.bind([](StreamNetBackend& self, int) { self.on_written(-EIO); }));
        if (!timer)
            m_writing = false;
        return;
    }
    m_writing = true;
}

void StreamNetBackend::on_written(int result)
{
    m_writing = false;
    if (result == -EAGAIN || result == -EINTR) {
        auto polled
            = m_loop.poll(m_file, POLLOUT, Multishot::No, m_completions.bind([](StreamNetBackend& self, int revents) {
                  self.m_writing = false;
                  if (revents < 0) {
                      self.take_link_down(-revents, "waiting to write the network stream failed");
                      return;
                  }
                  self.write_queued();
              }));
        if (polled) {
            m_writing = true;
            return;
        }
        result = -EIO;
    }
    if (result < 0) {
        take_link_down(-result, "writing the network stream failed: " + std::string(std::strerror(-result)));
        fail_queued_transmits(EPIPE);
        return;
    }
    std::vector<std::pair<uint64_t, uint64_t>> done; // tag, reported bytes
    auto bytes = static_cast<uint64_t>(result);
    while (bytes > 0 && !m_transmits.empty()) {
        auto& front = m_transmits.front();
        auto left = front.length - m_front_written;
        if (bytes < left) {
            m_front_written += bytes;
            break;
        }
        bytes -= left;
        done.emplace_back(front.tag, front.reported);
        m_transmits.pop_front();
        m_front_written = 0;
    }
    write_queued();
    for (auto [tag, reported] : done) {
        if (m_events)
            m_events->on_net_transmitted(tag, static_cast<int64_t>(reported));
    }
}

void StreamNetBackend::fail_queued_transmits(int error)
{
    auto failed = std::move(m_transmits);
    m_transmits.clear();
    m_front_written = 0;
    for (auto const& transmit : failed) {
        if (m_events)
            m_events->on_net_transmitted(transmit.tag, -error);
    }
}

Result<void> StreamNetBackend::start_timer(std::chrono::nanoseconds delay)
{
    TRY(m_loop.timeout(delay, m_completions.bind([](StreamNetBackend& self, int) {
        if (self.m_events)
            self.m_events->on_net_timer();
    })));
    return {};
}

} // namespace husk
