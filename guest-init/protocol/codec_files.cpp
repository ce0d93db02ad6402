// Payload codecs of the file messages.
//   FileWrite: path string, mode u32, offset u64, data bytes, last_chunk u8
//   FileRead:  path string, offset u64, max_size u32
//   FileData:  data bytes, eof u8
//   Stat:      path string
//   StatReply: kind u8, size u64, mode u32, mtime_ns i64
//   Mkdir:     path string, mode u32, parents u8
//   Remove:    path string, recursive u8
#include "guest-init/protocol/codec_fields.hpp"

namespace husk::protocol::detail {

namespace {
Result<std::string> read_path(ByteReader& reader)
{
    return reader.read_string("path", max_path_size, NulBytes::Rejected);
}

Result<void> check_offset(std::string_view field, uint64_t offset, uint64_t size)
{
    if (offset > max_file_offset || size > max_file_offset - offset)
        return fail(std::string(field) + ": offset " + std::to_string(offset) + " + " + std::to_string(size)
            + " bytes is past the largest file offset");
    return {};
}
} // namespace

void encode_fields(ByteWriter& writer, FileWrite const& message)
{
    writer.write_string(message.path);
    writer.write_u32(message.mode);
    writer.write_u64(message.offset);
    writer.write_bytes(message.data);
    writer.write_bool(message.last_chunk);
}
Result<void> decode_fields(ByteReader& reader, FileWrite& message)
{
    message.path = TRY(read_path(reader));
    message.mode = TRY(reader.read_u32("mode"));
    message.offset = TRY(reader.read_u64("offset"));
    message.data = TRY(reader.read_bytes("data", max_chunk_size));
    message.last_chunk = TRY(reader.read_bool("last_chunk"));
    return {};
}
Result<void> check_fields(FileWrite const& message)
{
    TRY(check_path("path", message.path));
    TRY(check_mode("mode", message.mode));
    TRY(check_data("data", message.data));
    return check_offset("offset", message.offset, message.data.size());
}

void encode_fields(ByteWriter& writer, FileRead const& message)
{
    writer.write_string(message.path);
    writer.write_u64(message.offset);
    writer.write_u32(message.max_size);
}
Result<void> decode_fields(ByteReader& reader, FileRead& message)
{
    message.path = TRY(read_path(reader));
    message.offset = TRY(reader.read_u64("offset"));
    message.max_size = TRY(reader.read_u32("max_size"));
    return {};
}
Result<void> check_fields(FileRead const& message)
{
    TRY(check_path("path", message.path));
    if (message.max_size == 0 || message.max_size > max_chunk_size)
        return fail(
            "max_size: " + std::to_string(message.max_size) + " is outside 1.." + std::to_string(max_chunk_size));
    return check_offset("offset", message.offset, 0);
}

void encode_fields(ByteWriter& writer, FileData const& message)
{
    writer.write_bytes(message.data);
    writer.write_bool(message.eof);
}
Result<void> decode_fields(ByteReader& reader, FileData& message)
{
    message.data = TRY(reader.read_bytes("data", max_chunk_size));
    message.eof = TRY(reader.read_bool("eof"));
    return {};
}
Result<void> check_fields(FileData const& message) { return check_data("data", message.data); }

void encode_fields(ByteWriter& writer, Stat const& message) { writer.write_string(message.path); }
Result<void> decode_fields(ByteReader& reader, Stat& message)
{
    message.path = TRY(read_path(reader));
    return {};
}
Result<void> check_fields(Stat const& message) { return check_path("path", message.path); }

void encode_fields(ByteWriter& writer, StatReply const& message)
{
    writer.write_u8(static_cast<uint8_t>(message.kind));
    writer.write_u64(message.size);
    writer.write_u32(message.mode);
    writer.write_i64(message.mtime_ns);
}
Result<void> decode_fields(ByteReader& reader, StatReply& message)
{
    message.kind = static_cast<FileKind>(TRY(reader.read_u8("kind")));
    message.size = TRY(reader.read_u64("size"));
    message.mode = TRY(reader.read_u32("mode"));
    message.mtime_ns = TRY(reader.read_i64("mtime_ns"));
    return {};
}
Result<void> check_fields(StatReply const& message)
{
    auto kind = static_cast<uint8_t>(message.kind);
    if (kind < static_cast<uint8_t>(FileKind::Regular) || kind > static_cast<uint8_t>(FileKind::Other))
        return fail("kind: unknown file kind " + std::to_string(kind));
    TRY(check_offset("size", 0, message.size));
    return check_mode("mode", message.mode);
}

void encode_fields(ByteWriter& writer, Mkdir const& message)
{
    writer.write_string(message.path);
    writer.write_u32(message.mode);
    writer.write_bool(message.parents);
}
Result<void> decode_fields(ByteReader& reader, Mkdir& message)
{
    message.path = TRY(read_path(reader));
    message.mode = TRY(reader.read_u32("mode"));
    message.parents = TRY(reader.read_bool("parents"));
    return {};
}
Result<void> check_fields(Mkdir const& message)
{
    TRY(check_path("path", message.path));
    return check_mode("mode", message.mode);
}

void encode_fields(ByteWriter& writer, Remove const& message)
{
    writer.write_string(message.path);
    writer.write_bool(message.recursive);
}
Result<void> decode_fields(ByteReader& reader, Remove& message)
{
    message.path = TRY(read_path(reader));
    message.recursive = TRY(reader.read_bool("recursive"));
    return {};
}
Result<void> check_fields(Remove const& message) { return check_path("path", message.path); }

} // namespace husk::protocol::detail
