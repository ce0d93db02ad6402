// Framing of the husk job protocol over a byte stream (vsock): a fixed little-endian header, then
// the payload. FrameDecoder reassembles frames from arbitrary read chunks and validates every
// header before it buffers the payload, so a hostile peer cannot make it wait for or store more
// than one maximal frame.
#pragma once

#include "guest-init/protocol/limits.hpp"
#include "guest-init/protocol/message_type.hpp"
#include "runtime/base/result.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace husk::protocol {

// "HUSK" in stream order when stored little-endian.
inline constexpr uint32_t frame_magic = 0x4b535548;

// Version 1 defines no frame flags. Unknown flag bits are rejected rather than ignored: a flag
// could change how the payload must be read.
inline constexpr uint16_t known_frame_flags = 0;

// Wire layout, all little-endian. Encoded field by field (never memcpy'd), so host byte order
// and struct padding do not matter; the struct documents the layout and its size.
struct FrameHeader {
    uint32_t magic;
    uint16_t version;
    uint16_t type;
    uint32_t correlation_id; // the exec/file operation this frame belongs to; 0 = connection
    uint16_t flags;
    uint16_t reserved; // must be 0
    uint32_t payload_size;
};
static_assert(sizeof(FrameHeader) == 20);
inline constexpr size_t frame_header_size = sizeof(FrameHeader);
inline constexpr size_t max_frame_size = frame_header_size + max_payload_size;

struct Frame {
    MessageType type { MessageType::Ping };
    uint32_t correlation_id { 0 };
    uint16_t flags { 0 };
    std::vector<uint8_t> payload;

    bool operator==(Frame const&) const = default;
};

void write_frame_header(FrameHeader const& header, std::span<uint8_t, frame_header_size> out);
FrameHeader read_frame_header(std::span<uint8_t const, frame_header_size> in);

// Checks everything the header alone can tell: magic, version, known type, flags, reserved,
// payload size within the protocol limit and within the bounds of the message type.
Result<void> validate_frame_header(FrameHeader const& header);

// A whole frame (header + payload) ready to write to the stream.
std::vector<uint8_t> encode_frame(MessageType type, uint32_t correlation_id, std::span<uint8_t const> payload);

// Incremental decoder for one connection. feed() the bytes read from the socket, then call next()
// until it yields no frame; only then feed again. Following that, the decoder holds at most one
// partial frame plus one read chunk. After any error it stays failed: a framing error leaves the
// stream position unknown, so the connection must be dropped.
class FrameDecoder {
public:
    void feed(std::span<uint8_t const> bytes);

    // A complete frame, std::nullopt when more bytes are needed, or the (sticky) error.
    Result<std::optional<Frame>> next();

    bool has_failed() const { return m_error.has_value(); }
    // True when bytes of an unfinished frame are buffered: EOF now means the peer cut a frame
    // short, not a clean close.
    bool has_partial_frame() const { return m_header.has_value() || buffered_size() > 0; }

private:
    size_t buffered_size() const { return m_buffer.size() - m_start; }
    Unexpected<Error> fail_with(Error error);

    std::vector<uint8_t> m_buffer;
    size_t m_start { 0 }; // first byte not yet consumed; compacted lazily
    std::optional<FrameHeader> m_header; // validated header of the frame being assembled
    std::optional<Error> m_error;
};

} // namespace husk::protocol
