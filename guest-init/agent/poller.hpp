// Poller: the agent's epoll loop. Level-triggered registrations owned by RAII Watch handles; a
// handler may destroy its own Watch (or others) while events of the same batch are pending,
// because events are looked up by token and a handler stays alive until its call returns.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

namespace husk::agent {

class Poller;

// One fd's registration. Interest 0 takes the fd out of the epoll set entirely: a pipe or socket
// keeps reporting EPOLLHUP/EPOLLERR even with no requested events, which would make a paused
// level-triggered watch spin.
class Watch {
public:
    Watch() = default;
    Watch(Watch&& other) noexcept;
    Watch& operator=(Watch&& other) noexcept;
    Watch(Watch const&) = delete;
    Watch& operator=(Watch const&) = delete;
    ~Watch() { reset(); }

    // EPOLLIN / EPOLLOUT mask; a no-op when unchanged.
    Result<void> set_events(uint32_t events);
    uint32_t events() const { return m_events; }
    bool is_active() const { return m_poller != nullptr; }
    void reset();

private:
    friend class Poller;
    Watch(Poller* poller, uint64_t token, int fd)
        : m_poller(poller)
        , m_token(token)
        , m_fd(fd)
    {
    }

    Poller* m_poller { nullptr };
    uint64_t m_token { 0 };
    int m_fd { -1 };
    uint32_t m_events { 0 };
};

class Poller {
public:
    using Handler = std::function<void(uint32_t events)>;

    static Result<std::unique_ptr<Poller>> create();

    // Registers `fd` (which must outlive the Watch) with an initial interest, possibly 0.
    Result<Watch> watch(int fd, uint32_t events, Handler handler);

    // Waits up to `timeout_ms` (-1: forever) and runs the handlers of the ready fds.
    Result<void> dispatch(int timeout_ms);

private:
    friend class Watch;
    explicit Poller(Fd epoll)
        : m_epoll(std::move(epoll))
    {
    }
    Result<void> update(Watch& watch, uint32_t events);
    void remove(Watch& watch);

    Fd m_epoll;
    uint64_t m_next_token { 1 };
    struct Entry {
        std::shared_ptr<Handler> handler;
        uint32_t events { 0 }; // current interest: an event of this batch for a paused fd is dropped
    };
    std::unordered_map<uint64_t, Entry> m_entries;
};

} // namespace husk::agent
