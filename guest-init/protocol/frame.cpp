// Frame header codec and the incremental FrameDecoder.
#include "guest-init/protocol/frame.hpp"

#include "guest-init/protocol/endian.hpp"
#include "runtime/base/hex.hpp"

#include <algorithm>
#include <string>

namespace husk::protocol {

namespace {
// Field offsets inside the 20-byte header.
constexpr size_t magic_offset = 0;
constexpr size_t version_offset = 4;
constexpr size_t type_offset = 6;
constexpr size_t correlation_offset = 8;
constexpr size_t flags_offset = 12;
constexpr size_t reserved_offset = 14;
constexpr size_t payload_size_offset = 16;
static_assert(payload_size_offset + sizeof(uint32_t) == frame_header_size);
} // namespace

void write_frame_header(FrameHeader const& header, std::span<uint8_t, frame_header_size> out)
{
    store_le(out.data() + magic_offset, header.magic);
    store_le(out.data() + version_offset, header.version);
    store_le(out.data() + type_offset, header.type);
    store_le(out.data() + correlation_offset, header.correlation_id);
    store_le(out.data() + flags_offset, header.flags);
    store_le(out.data() + reserved_offset, header.reserved);
    store_le(out.data() + payload_size_offset, header.payload_size);
}

FrameHeader read_frame_header(std::span<uint8_t const, frame_header_size> in)
{
    return FrameHeader {
        .magic = load_le<uint32_t>(in.data() + magic_offset),
        .version = load_le<uint16_t>(in.data() + version_offset),
        .type = load_le<uint16_t>(in.data() + type_offset),
        .correlation_id = load_le<uint32_t>(in.data() + correlation_offset),
        .flags = load_le<uint16_t>(in.data() + flags_offset),
        .reserved = load_le<uint16_t>(in.data() + reserved_offset),
        .payload_size = load_le<uint32_t>(in.data() + payload_size_offset),
    };
}

Result<void> validate_frame_header(FrameHeader const& header)
{
    if (header.magic != frame_magic)
        return fail("frame: bad magic " + hex(header.magic, 8) + " (not a husk protocol stream)");
    if (header.version != protocol_version)
        return fail("frame: unsupported protocol version " + std::to_string(header.version));
    if (!is_known_message_type(header.type))
        return fail("frame: unknown message type " + std::to_string(header.type));
    if ((header.flags & ~known_frame_flags) != 0)
        return fail("frame: unknown flags " + std::to_string(header.flags));
    if (header.reserved != 0)
        return fail("frame: reserved field is " + std::to_string(header.reserved) + ", must be 0");
    if (header.payload_size > max_payload_size)
        return fail("frame: payload of " + std::to_string(header.payload_size) + " bytes exceeds the limit of "
            + std::to_string(max_payload_size));
    auto type = static_cast<MessageType>(header.type);
    auto bounds = payload_bounds(type);
    if (header.payload_size < bounds.min || header.payload_size > bounds.max)
        return fail("frame: " + std::string(message_type_name(type)) + " payload of "
            + std::to_string(header.payload_size) + " bytes is outside " + std::to_string(bounds.min) + ".."
            + std::to_string(bounds.max));
    return {};
}

std::vector<uint8_t> encode_frame(MessageType type, uint32_t correlation_id, std::span<uint8_t const> payload)
{
    std::vector<uint8_t> bytes(frame_header_size + payload.size());
    FrameHeader header {
        .magic = frame_magic,
        .version = protocol_version,
        .type = static_cast<uint16_t>(type),
        .correlation_id = correlation_id,
        .flags = 0,
        .reserved = 0,
        .payload_size = static_cast<uint32_t>(payload.size()),
    };
    write_frame_header(header, std::span<uint8_t, frame_header_size>(bytes.data(), frame_header_size));
    std::copy(payload.begin(), payload.end(), bytes.begin() + frame_header_size);
    return bytes;
}

void FrameDecoder::feed(std::span<uint8_t const> bytes)
{
    if (m_error)
        return; // the connection is being dropped; do not grow the buffer for it
    // Drop what next() consumed. Done here, not per frame, so a chunk holding many small frames
    // costs one move of its tail rather than one per frame.
    if (m_start > 0) {
        m_buffer.erase(m_buffer.begin(), m_buffer.begin() + static_cast<std::ptrdiff_t>(m_start));
        m_start = 0;
    }
    m_buffer.insert(m_buffer.end(), bytes.begin(), bytes.end());
}

Result<std::optional<Frame>> FrameDecoder::next()
{
    if (m_error)
        return unexpected(*m_error);
    if (!m_header) {
        if (buffered_size() < frame_header_size)
            return std::optional<Frame> {};
        auto header = read_frame_header(
            std::span<uint8_t const, frame_header_size>(m_buffer.data() + m_start, frame_header_size));
        if (auto valid = validate_frame_header(header); !valid)
            return fail_with(std::move(valid).error());
        m_header = header;
        m_start += frame_header_size;
    }
    if (buffered_size() < m_header->payload_size)
        return std::optional<Frame> {};

    auto payload_begin = m_buffer.begin() + static_cast<std::ptrdiff_t>(m_start);
    Frame frame {
        .type = static_cast<MessageType>(m_header->type),
        .correlation_id = m_header->correlation_id,
        .flags = m_header->flags,
        .payload = std::vector<uint8_t>(payload_begin, payload_begin + m_header->payload_size),
    };
    m_start += m_header->payload_size;
    m_header.reset();
    return std::optional<Frame> { std::move(frame) };
}

Unexpected<Error> FrameDecoder::fail_with(Error error)
{
    m_error = error;
    m_buffer.clear();
    m_buffer.shrink_to_fit();
    m_start = 0;
    return unexpected(std::move(error));
}

} // namespace husk::protocol
