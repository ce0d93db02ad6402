// Internal to the protocol library: the per-message payload codecs, one family per .cpp
// (codec_session, codec_exec, codec_files), and the field checks they share. For each message:
// encode_fields writes the payload, decode_fields reads it (wire checks: lengths, counts, NULs),
// check_fields enforces the semantic rules, on decode and before a checked encode alike.
#pragma once

#include "guest-init/protocol/byte_reader.hpp"
#include "guest-init/protocol/byte_writer.hpp"
#include "guest-init/protocol/messages.hpp"
#include "runtime/base/result.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace husk::protocol::detail {

#define HUSK_PROTOCOL_DECLARE_FIELD_CODEC(Type)                                                                        \
    void encode_fields(ByteWriter& writer, Type const& message);                                                       \
    Result<void> decode_fields(ByteReader& reader, Type& message);                                                     \
    Result<void> check_fields(Type const& message);

HUSK_PROTOCOL_DECLARE_FIELD_CODEC(Hello)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(HelloReply)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(Ping)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(Pong)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(Shutdown)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(Refresh)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(Ack)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(ErrorReply)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(Exec)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(Stdin)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(StdinClose)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(Output)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(Signal)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(Exited)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(SpawnFailed)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(FileWrite)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(FileRead)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(FileData)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(Stat)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(StatReply)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(Mkdir)
HUSK_PROTOCOL_DECLARE_FIELD_CODEC(Remove)

#undef HUSK_PROTOCOL_DECLARE_FIELD_CODEC

// File offsets and sizes become off_t (signed 64-bit) on the agent side.
inline constexpr uint64_t max_file_offset = std::numeric_limits<int64_t>::max();

// "argv[3]": names a list element in error messages.
std::string indexed(std::string_view field, size_t index);

Result<void> check_string(std::string_view field, std::string const& text, size_t max_size, NulBytes nul_bytes);
// Non-empty, absolute, no NUL, at most max_path_size bytes.
Result<void> check_path(std::string_view field, std::string const& path);
Result<void> check_data(std::string_view field, std::vector<uint8_t> const& data);
Result<void> check_mode(std::string_view field, uint32_t mode);
Result<void> check_signal(std::string_view field, uint32_t signo);

} // namespace husk::protocol::detail
