// Poller and Watch.
#include "guest-init/agent/poller.hpp"

#include <array>
#include <cerrno>
#include <sys/epoll.h>

namespace husk::agent {

namespace {

    constexpr size_t events_per_wait = 64;

} // namespace

Watch::Watch(Watch&& other) noexcept
    : m_poller(other.m_poller)
    , m_token(other.m_token)
    , m_fd(other.m_fd)
    , m_events(other.m_events)
{
    other.m_poller = nullptr;
}

Watch& Watch::operator=(Watch&& other) noexcept
{
    if (this != &other) {
        reset();
        m_poller = other.m_poller;
        m_token = other.m_token;
        m_fd = other.m_fd;
        m_events = other.m_events;
        other.m_poller = nullptr;
    }
    return *this;
}

Result<void> Watch::set_events(uint32_t events)
{
    if (!m_poller)
        return fail("watch: not registered");
    if (events == m_events)
        return {};
    return m_poller->update(*this, events);
}

void Watch::reset()
{
    if (m_poller)
        m_poller->remove(*this);
    m_poller = nullptr;
}

Result<std::unique_ptr<Poller>> Poller::create()
{
    int fd = epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0)
        return fail_errno("epoll_create1");
    return std::unique_ptr<Poller>(new Poller(Fd(fd)));
}

Result<Watch> Poller::watch(int fd, uint32_t events, Handler handler)
{
    uint64_t token = m_next_token++;
    m_entries.emplace(token, Entry { std::make_shared<Handler>(std::move(handler)), 0 });
    Watch watch(this, token, fd);
    if (auto updated = update(watch, events); !updated)
        return unexpected(std::move(updated).error()); // ~Watch drops the handler
    return watch;
}

Result<void> Poller::update(Watch& watch, uint32_t events)
{
    epoll_event event {};
    event.events = events;
    event.data.u64 = watch.m_token;
    int operation = watch.m_events == 0 ? EPOLL_CTL_ADD : (events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD);
    if (watch.m_events == 0 && events == 0)
        return {};
    if (epoll_ctl(m_epoll.get(), operation, watch.m_fd, &event) < 0)
        return fail_errno("epoll_ctl");
    watch.m_events = events;
    if (auto found = m_entries.find(watch.m_token); found != m_entries.end())
        found->second.events = events;
    return {};
}

void Poller::remove(Watch& watch)
{
    if (watch.m_events != 0) {
        // Fails only for an fd already closed, which epoll dropped on its own.
        epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, watch.m_fd, nullptr);
        watch.m_events = 0;
    }
    m_entries.erase(watch.m_token);
}

Result<void> Poller::dispatch(int timeout_ms)
{
    std::array<epoll_event, events_per_wait> events;
    int count = epoll_wait(m_epoll.get(), events.data(), static_cast<int>(events.size()), timeout_ms);
    if (count < 0) {
        if (errno == EINTR)
            return {};
        return fail_errno("epoll_wait");
    }
    for (int i = 0; i < count; ++i) {
        auto found = m_entries.find(events[i].data.u64);
        if (found == m_entries.end() || found->second.events == 0)
            continue; // removed or paused by an earlier handler of this batch
        auto handler = found->second.handler; // keeps the handler alive if it removes its own watch
        (*handler)(events[i].events);
    }
    return {};
}

} // namespace husk::agent
