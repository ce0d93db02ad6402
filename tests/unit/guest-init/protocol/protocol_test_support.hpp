// Helpers for the protocol tests: raw frames and payloads built byte by byte, so tests can feed
// the decoders exactly the malformed input a hostile peer would send.
#pragma once

#include "guest-init/protocol/byte_writer.hpp"
#include "guest-init/protocol/frame.hpp"
#include "guest-init/protocol/message_codec.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace husk::protocol::testing {

inline FrameHeader valid_header(MessageType type, uint32_t payload_size, uint32_t correlation_id = 0)
{
    return FrameHeader {
        .magic = frame_magic,
        .version = protocol_version,
        .type = static_cast<uint16_t>(type),
        .correlation_id = correlation_id,
        .flags = 0,
        .reserved = 0,
        .payload_size = payload_size,
    };
}

inline std::vector<uint8_t> header_bytes(FrameHeader const& header)
{
    std::vector<uint8_t> bytes(frame_header_size);
    write_frame_header(header, std::span<uint8_t, frame_header_size>(bytes.data(), frame_header_size));
    return bytes;
}

inline Frame frame_of(MessageType type, std::vector<uint8_t> payload, uint32_t correlation_id = 1)
{
    return Frame { .type = type, .correlation_id = correlation_id, .flags = 0, .payload = std::move(payload) };
}

// Decodes one encoded frame the way a receiver does: FrameDecoder, then decode_message.
inline Result<Message> decode_bytes(std::vector<uint8_t> const& bytes)
{
    FrameDecoder decoder;
    decoder.feed(bytes);
    auto frame = TRY(decoder.next());
    if (!frame)
        return fail("incomplete frame");
    if (decoder.has_partial_frame())
        return fail("bytes left after the frame");
    return decode_message(*frame);
}

inline std::string error_of(Result<Message> const& result)
{
    return result.has_value() ? std::string("(no error)") : result.error().message;
}

} // namespace husk::protocol::testing
