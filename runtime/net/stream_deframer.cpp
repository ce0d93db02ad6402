// StreamDeframer: a linear buffer whose consumed front is reclaimed by moving the unread tail
// down when the space behind it runs short.
#include "runtime/net/stream_deframer.hpp"

#include <algorithm>
#include <cstring>

namespace husk {

StreamDeframer::StreamDeframer(uint32_t max_frame_length)
    : m_max_frame_length(max_frame_length)
    , m_buffer(2 * (length_prefix_size + max_frame_length))
{
}

std::span<uint8_t> StreamDeframer::free_space()
{
    if (peek().status == Status::Broken)
        return {};
    // Move down once less than one largest frame fits behind the data: after the move the
    // unread bytes (at most one partial frame when this is needed) leave at least that much.
    if (m_buffer.size() - m_end < length_prefix_size + m_max_frame_length && m_start > 0) {
        std::memmove(m_buffer.data(), m_buffer.data() + m_start, m_end - m_start);
        m_end -= m_start;
        m_start = 0;
    }
    return std::span(m_buffer).subspan(m_end);
}

void StreamDeframer::commit(size_t bytes) { m_end = std::min(m_end + bytes, m_buffer.size()); }

StreamDeframer::Next StreamDeframer::peek() const
{
    if (buffered_bytes() < length_prefix_size)
        return {};
    uint8_t const* prefix = m_buffer.data() + m_start;
    uint32_t length = (uint32_t { prefix[0] } << 24) | (uint32_t { prefix[1] } << 16) | (uint32_t { prefix[2] } << 8)
        | uint32_t { prefix[3] };
    if (length == 0 || length > m_max_frame_length)
        return Next { Status::Broken, {}, length };
    if (buffered_bytes() - length_prefix_size < length)
        return {};
    return Next { Status::Frame, std::span(m_buffer).subspan(m_start + length_prefix_size, length), length };
}

void StreamDeframer::pop()
{
    auto next = peek();
    if (next.status != Status::Frame)
        return;
    m_start += length_prefix_size + next.frame.size();
    if (m_start == m_end)
        m_start = m_end = 0;
}

} // namespace husk
