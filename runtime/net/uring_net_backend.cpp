// UringNetBackend: frames as readv/writev submissions, with a poll in between when the
// descriptor has nothing to read (or no room to write) yet.
#include "runtime/net/uring_net_backend.hpp"

#include "runtime/base/log.hpp"

#include <cerrno>
#include <poll.h>

namespace husk {

std::vector<IoOpcode> net_backend_opcodes() { return { IoOpcode::ReadV, IoOpcode::WriteV, IoOpcode::Timeout }; }

Result<std::unique_ptr<UringNetBackend>> UringNetBackend::create(EventLoop& loop, int fd, OffloadSetter set_offloads)
{
    auto file = TRY_CONTEXT(loop.register_file(fd), "network backend");
    return std::unique_ptr<UringNetBackend>(new UringNetBackend(loop, file, std::move(set_offloads)));
}

UringNetBackend::UringNetBackend(EventLoop& loop, FixedFile file, OffloadSetter set_offloads)
    : m_loop(loop)
    , m_file(file)
    , m_set_offloads(std::move(set_offloads))
{
}

UringNetBackend::~UringNetBackend()
{
    // Operations in the kernel keep their own reference to the file; their completions do
    // nothing once revoked. Their iovecs point into guest memory, which outlives the devices.
    m_completions.revoke();
    if (m_receive)
        (void)m_loop.cancel(*m_receive);
    if (auto unregistered = m_loop.unregister_file(m_file); !unregistered)
        log_warn("virtio-net: " + unregistered.error().message);
}

Result<void> UringNetBackend::start_receive(std::span<iovec const> buffers)
{
    if (m_receive)
        return fail("a receive is already in flight");
    m_receive_buffers = buffers;
    m_receive_cancelled = false;
    return submit_poll();
}

Result<void> UringNetBackend::submit_poll()
{
    // Poll first, then read: io_uring arms a poll inline, while a readv of an empty descriptor
    // it cannot complete at once goes to an io-wq worker thread (only plain reads are
    // poll-armed in Linux 6.1), one thread hop per idle-to-busy transition of the tap.
    m_receive
        = TRY(m_loop.poll(m_file, POLLIN, Multishot::No, m_completions.bind([](UringNetBackend& self, int revents) {
              self.m_receive.reset();
              if (revents < 0 || self.m_receive_cancelled) {
                  if (self.m_events)
                      self.m_events->on_net_received(revents < 0 ? revents : -ECANCELED);
                  return;
              }
              if (auto read = self.submit_read(); !read && self.m_events)
                  self.m_events->on_net_received(-EIO);
          })));
    return {};
}

Result<void> UringNetBackend::submit_read()
{
    m_receive = TRY(m_loop.readv(m_file, m_receive_buffers, stream_offset,
        m_completions.bind([](UringNetBackend& self, int result) { self.on_read(result); })));
    return {};
}

void UringNetBackend::on_read(int result)
{
    m_receive.reset();
    if ((result == -EAGAIN || result == -EINTR) && m_receive_cancelled)
        result = -ECANCELED;
    if (result == -EAGAIN || result == -EINTR) {
        // Readable, yet nothing to read (or interrupted): wait again.
        if (submit_poll())
            return;
        result = -EIO;
    }
    if (m_events)
        m_events->on_net_received(result);
}

void UringNetBackend::cancel_receive()
{
    m_receive_cancelled = true;
    if (m_receive)
        (void)m_loop.cancel(*m_receive); // reports -ECANCELED, or the frame if it was already read
}

Result<void> UringNetBackend::start_transmit(uint64_t tag, std::span<iovec const> buffers)
{
    auto [position, inserted] = m_transmits.try_emplace(tag);
    if (!inserted)
        return fail("transmit tag " + std::to_string(tag) + " is already in flight");
    position->second.buffers = buffers;
    if (auto submitted = submit_write(tag); !submitted) {
        m_transmits.erase(tag);
        return submitted;
    }
    return {};
}

Result<void> UringNetBackend::submit_write(uint64_t tag)
{
    auto& transmit = m_transmits.at(tag);
    transmit.operation = TRY(m_loop.writev(m_file, transmit.buffers, stream_offset,
        m_completions.bind([tag](UringNetBackend& self, int result) { self.on_write(tag, result); })));
    return {};
}

void UringNetBackend::on_write(uint64_t tag, int result)
{
    if (result == -EAGAIN || result == -EINTR) {
        auto polled
            = m_loop.poll(m_file, POLLOUT, Multishot::No, m_completions.bind([tag](UringNetBackend& self, int revents) {
                  if (revents >= 0 && self.submit_write(tag))
                      return;
                  self.on_write(tag, revents < 0 ? revents : -EIO);
              }));
        if (polled)
            return;
        result = -EIO;
    }
    m_transmits.erase(tag);
    if (m_events)
        m_events->on_net_transmitted(tag, result);
}

Result<void> UringNetBackend::start_timer(std::chrono::nanoseconds delay)
{
    TRY(m_loop.timeout(delay, m_completions.bind([](UringNetBackend& self, int) {
        if (self.m_events)
            self.m_events->on_net_timer();
    })));
    return {};
}

} // namespace husk
