// OutputQueue: the encoded frames waiting for one connection's socket. The limit is soft: the
// session stops producing bulk output (job pipes, file reads, requests) once the queue reaches it
// and resumes at half of it, so the queue stays below limit + one maximal frame, whatever the host
// reading speed, and a slow reader never holds up other connections.
#pragma once

#include "runtime/base/result.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace husk::agent {

class OutputQueue {
public:
    explicit OutputQueue(size_t limit)
        : m_limit(limit)
    {
    }

    void push(std::vector<uint8_t> frame);

    enum class Flushed { All, Partly };
    // Sends as much as the non-blocking socket takes (MSG_NOSIGNAL: a closed peer is an error
    // here, never a SIGPIPE). EPIPE/ECONNRESET and other send errors come back as errors.
    Result<Flushed> flush(int socket_fd);

    size_t size() const { return m_size; }
    bool is_empty() const { return m_size == 0; }
    size_t limit() const { return m_limit; }

    // Hysteresis for bulk producers: full at the limit, with room again at half of it.
    enum class Room { Available, Full };
    Room room() const { return m_room; }

private:
    void update_room();

    std::deque<std::vector<uint8_t>> m_frames;
    size_t m_front_offset { 0 }; // bytes of m_frames.front() already sent
    size_t m_size { 0 }; // unsent bytes
    size_t m_limit;
    Room m_room { Room::Available };
};

} // namespace husk::agent
