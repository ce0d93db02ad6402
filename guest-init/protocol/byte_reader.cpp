// ByteReader: checked little-endian decoding of payload fields.
#include "guest-init/protocol/byte_reader.hpp"

#include "guest-init/protocol/endian.hpp"

#include <algorithm>

namespace husk::protocol {

namespace {
std::string field_error(std::string_view field, std::string const& what) { return std::string(field) + ": " + what; }
} // namespace

Result<std::span<uint8_t const>> ByteReader::take(std::string_view field, size_t size)
{
    if (size > remaining())
        return fail(field_error(
            field, "truncated (needs " + std::to_string(size) + " bytes, " + std::to_string(remaining()) + " left)"));
    auto bytes = m_bytes.subspan(m_offset, size);
    m_offset += size;
    return bytes;
}

Result<std::span<uint8_t const>> ByteReader::take_prefixed(std::string_view field, size_t max_size)
{
    auto size = TRY(read_u32(field));
    if (size > max_size)
        return fail(
            field_error(field, "length " + std::to_string(size) + " exceeds the limit of " + std::to_string(max_size)));
    return take(field, size);
}

Result<uint8_t> ByteReader::read_u8(std::string_view field) { return TRY(take(field, 1))[0]; }
Result<uint16_t> ByteReader::read_u16(std::string_view field) { return load_le<uint16_t>(TRY(take(field, 2)).data()); }
Result<uint32_t> ByteReader::read_u32(std::string_view field) { return load_le<uint32_t>(TRY(take(field, 4)).data()); }
Result<uint64_t> ByteReader::read_u64(std::string_view field) { return load_le<uint64_t>(TRY(take(field, 8)).data()); }
Result<int64_t> ByteReader::read_i64(std::string_view field) { return static_cast<int64_t>(TRY(read_u64(field))); }

Result<bool> ByteReader::read_bool(std::string_view field)
{
    auto value = TRY(read_u8(field));
    if (value > 1)
        return fail(field_error(field, "boolean is " + std::to_string(value) + ", must be 0 or 1"));
    return value == 1;
}

Result<std::vector<uint8_t>> ByteReader::read_bytes(std::string_view field, size_t max_size)
{
    auto bytes = TRY(take_prefixed(field, max_size));
    return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

Result<std::string> ByteReader::read_string(std::string_view field, size_t max_size, NulBytes nul_bytes)
{
    auto bytes = TRY(take_prefixed(field, max_size));
    if (nul_bytes == NulBytes::Rejected && std::find(bytes.begin(), bytes.end(), 0) != bytes.end())
        return fail(field_error(field, "contains a NUL byte"));
    return std::string(bytes.begin(), bytes.end());
}

Result<uint32_t> ByteReader::read_count(std::string_view field, size_t max_count, size_t min_element_size)
{
    auto count = TRY(read_u32(field));
    if (count > max_count)
        return fail(field_error(
            field, "count " + std::to_string(count) + " exceeds the limit of " + std::to_string(max_count)));
    // 64-bit product of two 32-bit-bounded values cannot overflow.
    if (uint64_t { count } * min_element_size > remaining())
        return fail(field_error(field,
            "count " + std::to_string(count) + " does not fit in the " + std::to_string(remaining()) + " bytes left"));
    return count;
}

Result<void> ByteReader::expect_end() const
{
    if (remaining() != 0)
        return fail(std::to_string(remaining()) + " trailing bytes after the last field");
    return {};
}

} // namespace husk::protocol
