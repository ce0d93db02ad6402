// decode_message / encode_message: dispatch between frame types and the per-message codecs in
// codec_session.cpp, codec_exec.cpp and codec_files.cpp.
#include "guest-init/protocol/message_codec.hpp"

#include "guest-init/protocol/codec_fields.hpp"

#include <string>
#include <utility>

namespace husk::protocol {

namespace {

// One alternative per MessageType (message_type.cpp lists 22); the codec tests decode each.
static_assert(std::variant_size_v<Message> == 22);

std::string type_name(MessageType type) { return std::string(message_type_name(type)); }

Result<void> check_correlation(MessageType type, uint32_t correlation_id)
{
    switch (correlation_scope(type)) {
    case CorrelationScope::Connection:
        if (correlation_id != 0)
            return fail(type_name(type) + ": connection message with correlation id " + std::to_string(correlation_id)
                + ", must be 0");
        return {};
    case CorrelationScope::Operation:
        if (correlation_id == 0)
            return fail(type_name(type) + ": operation message with correlation id 0");
        return {};
    case CorrelationScope::Any:
        return {};
    }
    return {};
}

template<typename T>
Result<Message> decode_as(std::span<uint8_t const> payload)
{
    ByteReader reader(payload);
    T message;
    TRY_CONTEXT(detail::decode_fields(reader, message), type_name(T::type));
    TRY_CONTEXT(reader.expect_end(), type_name(T::type));
    TRY_CONTEXT(detail::check_fields(message), type_name(T::type));
    return Message { std::move(message) };
}

// Picks the variant alternative whose T::type matches, so adding a message needs no switch edit.
template<size_t... Index>
Result<Message> decode_by_type(MessageType type, std::span<uint8_t const> payload, std::index_sequence<Index...>)
{
    Result<Message> result = fail("unknown message type " + std::to_string(static_cast<uint16_t>(type)));
    (void)((std::variant_alternative_t<Index, Message>::type == type
               && (result = decode_as<std::variant_alternative_t<Index, Message>>(payload), true))
        || ...);
    return result;
}

std::vector<uint8_t> encode_payload(Message const& message)
{
    ByteWriter writer;
    std::visit([&](auto const& typed) { detail::encode_fields(writer, typed); }, message);
    return writer.take();
}

} // namespace

MessageType message_type(Message const& message)
{
    return std::visit([](auto const& typed) { return std::decay_t<decltype(typed)>::type; }, message);
}

std::string_view message_name(Message const& message) { return message_type_name(message_type(message)); }

Result<Message> decode_message(Frame const& frame)
{
    // The frame may not come from FrameDecoder (built by hand, or by a fuzzer): check it again.
    if (!is_known_message_type(static_cast<uint16_t>(frame.type)))
        return fail("unknown message type " + std::to_string(static_cast<uint16_t>(frame.type)));
    if ((frame.flags & ~known_frame_flags) != 0)
        return fail(type_name(frame.type) + ": unknown frame flags " + std::to_string(frame.flags));
    if (frame.payload.size() > max_payload_size)
        return fail(type_name(frame.type) + ": payload exceeds the limit of " + std::to_string(max_payload_size));
    TRY(check_correlation(frame.type, frame.correlation_id));
    return decode_by_type(frame.type, frame.payload, std::make_index_sequence<std::variant_size_v<Message>> {});
}

Result<Message> decode_message(Frame const& frame, Peer sender)
{
    if (is_known_message_type(static_cast<uint16_t>(frame.type)) && !may_send(sender, frame.type))
        return fail(type_name(frame.type) + ": not a message the "
            + std::string(sender == Peer::Host ? "host" : "guest") + " may send");
    return decode_message(frame);
}

Result<void> validate_message(uint32_t correlation_id, Message const& message)
{
    auto type = message_type(message);
    TRY(check_correlation(type, correlation_id));
    return std::visit(
        [&](auto const& typed) -> Result<void> {
            TRY_CONTEXT(detail::check_fields(typed), type_name(type));
            return {};
        },
        message);
}

std::vector<uint8_t> encode_message(uint32_t correlation_id, Message const& message)
{
    return encode_frame(message_type(message), correlation_id, encode_payload(message));
}

Result<std::vector<uint8_t>> encode_message_checked(uint32_t correlation_id, Message const& message)
{
    TRY(validate_message(correlation_id, message));
    auto payload = encode_payload(message);
    // Only Exec can get here oversized: its lists are bounded by count, not by total size.
    if (payload.size() > max_payload_size)
        return fail(type_name(message_type(message)) + ": payload of " + std::to_string(payload.size())
            + " bytes exceeds the limit of " + std::to_string(max_payload_size));
    return encode_frame(message_type(message), correlation_id, payload);
}

} // namespace husk::protocol
