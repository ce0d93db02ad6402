// Payload codecs of the connection messages (Hello, Ping, Shutdown) and the generic replies.
//   Hello, HelloReply: version u16, capabilities u64
//   Ping, Pong:        nonce u64
//   Shutdown, Ack:     (empty)
//   Refresh:           realtime_ns u64, entropy bytes, hostname string
//   ErrorReply:        code u32, message string
#include "guest-init/protocol/codec_fields.hpp"

namespace husk::protocol::detail {

namespace {
template<typename T>
void encode_version(ByteWriter& writer, T const& message)
{
    writer.write_u16(message.version);
    writer.write_u64(message.capabilities);
}

template<typename T>
Result<void> decode_version(ByteReader& reader, T& message)
{
    message.version = TRY(reader.read_u16("version"));
    message.capabilities = TRY(reader.read_u64("capabilities"));
    return {};
}

Result<void> check_version(uint16_t version)
{
    if (version == 0)
        return fail("version: must be at least 1");
    return {};
}

bool is_known(ErrorCode code)
{
    auto value = static_cast<uint32_t>(code);
    return value >= static_cast<uint32_t>(ErrorCode::NotFound) && value <= static_cast<uint32_t>(ErrorCode::Internal);
}
} // namespace

void encode_fields(ByteWriter& writer, Hello const& message) { encode_version(writer, message); }
Result<void> decode_fields(ByteReader& reader, Hello& message) { return decode_version(reader, message); }
Result<void> check_fields(Hello const& message) { return check_version(message.version); }

void encode_fields(ByteWriter& writer, HelloReply const& message) { encode_version(writer, message); }
Result<void> decode_fields(ByteReader& reader, HelloReply& message) { return decode_version(reader, message); }
Result<void> check_fields(HelloReply const& message) { return check_version(message.version); }

void encode_fields(ByteWriter& writer, Ping const& message) { writer.write_u64(message.nonce); }
Result<void> decode_fields(ByteReader& reader, Ping& message)
{
    message.nonce = TRY(reader.read_u64("nonce"));
    return {};
}
Result<void> check_fields(Ping const&) { return {}; }

void encode_fields(ByteWriter& writer, Pong const& message) { writer.write_u64(message.nonce); }
Result<void> decode_fields(ByteReader& reader, Pong& message)
{
    message.nonce = TRY(reader.read_u64("nonce"));
    return {};
}
Result<void> check_fields(Pong const&) { return {}; }

void encode_fields(ByteWriter&, Shutdown const&) { }
Result<void> decode_fields(ByteReader&, Shutdown&) { return {}; }
Result<void> check_fields(Shutdown const&) { return {}; }

void encode_fields(ByteWriter& writer, Refresh const& message)
{
    writer.write_u64(message.realtime_ns);
    writer.write_bytes(message.entropy);
    writer.write_string(message.hostname);
    if (!message.network.empty())
        writer.write_string(message.network);
}
Result<void> decode_fields(ByteReader& reader, Refresh& message)
{
    message.realtime_ns = TRY(reader.read_u64("realtime_ns"));
    message.entropy = TRY(reader.read_bytes("entropy", max_refresh_entropy_size));
    message.hostname = TRY(reader.read_string("hostname", max_hostname_size, NulBytes::Rejected));
    if (reader.remaining() > 0) {
        message.network = TRY(reader.read_string("network", max_refresh_network_size, NulBytes::Rejected));
        if (message.network.empty())
            return fail("network: present but empty (leave it out instead)");
    }
    return {};
}
Result<void> check_fields(Refresh const& message)
{
    for (char c : message.hostname) {
        bool allowed
            = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (!allowed)
            return fail("hostname: only letters, digits, '-' and '.' are allowed");
    }
    if (message.network.size() > max_refresh_network_size)
        return fail("network: longer than " + std::to_string(max_refresh_network_size) + " bytes");
    for (char c : message.network) {
        if (c < ' ' || c > '~')
            return fail("network: only printable ASCII is allowed");
    }
    return {};
}

void encode_fields(ByteWriter&, Ack const&) { }
Result<void> decode_fields(ByteReader&, Ack&) { return {}; }
Result<void> check_fields(Ack const&) { return {}; }

void encode_fields(ByteWriter& writer, ErrorReply const& message)
{
    writer.write_u32(static_cast<uint32_t>(message.code));
    writer.write_string(message.message);
}
Result<void> decode_fields(ByteReader& reader, ErrorReply& message)
{
    message.code = static_cast<ErrorCode>(TRY(reader.read_u32("code")));
    message.message = TRY(reader.read_string("message", max_string_size, NulBytes::Allowed));
    return {};
}
Result<void> check_fields(ErrorReply const& message)
{
    if (!is_known(message.code))
        return fail("code: unknown error code " + std::to_string(static_cast<uint32_t>(message.code)));
    return check_string("message", message.message, max_string_size, NulBytes::Allowed);
}

} // namespace husk::protocol::detail
