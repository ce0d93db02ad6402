// ReplyWriter: builds one 9P reply in a caller's buffer: begin() writes the header with a
// placeholder size, the caller adds fields through writer(), finish() patches the size. A reply
// that does not fit the buffer (the negotiated msize) becomes Rlerror(EMSGSIZE); finish() returns
// 0 only when not even that fits (a buffer under 11 bytes).
#pragma once

#include "virtio/p9/p9_spec.hpp"
#include "virtio/p9/p9_wire.hpp"

#include <cerrno>
#include <span>

namespace husk::p9 {

class ReplyWriter {
public:
    explicit ReplyWriter(std::span<uint8_t> buffer)
        : m_buffer(buffer)
        , m_writer(buffer)
    {
    }

    void begin(uint8_t type, uint16_t tag)
    {
        m_writer = WireWriter(m_buffer);
        m_tag = tag;
        m_writer.u32(0);
        m_writer.u8(type);
        m_writer.u16(tag);
    }
    WireWriter& writer() { return m_writer; }

    // Rlerror(error) for the request with `tag`.
    size_t error(uint16_t tag, int error)
    {
        begin(message::rlerror, tag);
        m_writer.u32(static_cast<uint32_t>(error));
        return finish();
    }

    // The reply's length in the buffer (its size field set), or 0 if not even Rlerror fits.
    size_t finish()
    {
        if (m_writer.failed()) {
            if (m_in_fallback)
                return 0;
            m_in_fallback = true;
            auto size = error(m_tag, EMSGSIZE);
            m_in_fallback = false;
            return size;
        }
        m_writer.patch_u32(0, static_cast<uint32_t>(m_writer.size()));
        return m_writer.size();
    }

private:
    std::span<uint8_t> m_buffer;
    WireWriter m_writer;
    uint16_t m_tag { no_tag };
    bool m_in_fallback { false };
};

} // namespace husk::p9
