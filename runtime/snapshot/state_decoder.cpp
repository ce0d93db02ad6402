// StateDecoder: checked field and section reads.
#include "runtime/snapshot/state_decoder.hpp"

namespace husk {

Result<std::span<uint8_t const>> StateDecoder::take(size_t size, std::string_view field)
{
    if (size > remaining())
        return fail(m_where + " is truncated: " + std::string(field) + " needs " + std::to_string(size) + " bytes, "
            + std::to_string(remaining()) + " left");
    auto part = m_bytes.subspan(m_offset, size);
    m_offset += size;
    return part;
}

Result<uint64_t> StateDecoder::little_endian(int width, std::string_view field)
{
    auto raw = TRY(take(static_cast<size_t>(width), field));
    uint64_t value = 0;
    for (int i = 0; i < width; ++i)
        value |= uint64_t { raw[static_cast<size_t>(i)] } << (8 * i);
    return value;
}

Result<uint8_t> StateDecoder::u8(std::string_view field) { return static_cast<uint8_t>(TRY(little_endian(1, field))); }
Result<uint16_t> StateDecoder::u16(std::string_view field)
{
    return static_cast<uint16_t>(TRY(little_endian(2, field)));
}
Result<uint32_t> StateDecoder::u32(std::string_view field)
{
    return static_cast<uint32_t>(TRY(little_endian(4, field)));
}
Result<uint64_t> StateDecoder::u64(std::string_view field) { return little_endian(8, field); }
Result<int64_t> StateDecoder::i64(std::string_view field) { return static_cast<int64_t>(TRY(u64(field))); }

Result<bool> StateDecoder::boolean(std::string_view field)
{
    auto value = TRY(u8(field));
    if (value > 1)
        return fail(m_where + ": " + std::string(field) + " is " + std::to_string(value) + ", not 0 or 1");
    return value == 1;
}

Result<std::vector<uint8_t>> StateDecoder::bytes(std::string_view field, size_t max_size)
{
    auto length = TRY(u32(field));
    if (length > max_size)
        return fail(m_where + ": " + std::string(field) + " has " + std::to_string(length) + " bytes, at most "
            + std::to_string(max_size) + " allowed");
    auto raw = TRY(take(length, field));
    return std::vector<uint8_t>(raw.begin(), raw.end());
}

Result<std::string> StateDecoder::string(std::string_view field, size_t max_size)
{
    auto raw = TRY(bytes(field, max_size));
    return std::string(raw.begin(), raw.end());
}

Result<StateDecoder> StateDecoder::section(std::string_view tag)
{
    auto found = TRY(take(4, std::string("the tag of section ") + std::string(tag)));
    if (std::string_view(reinterpret_cast<char const*>(found.data()), 4) != tag) {
        std::string printable;
        for (uint8_t byte : found)
            printable += byte >= 0x20 && byte < 0x7f ? static_cast<char>(byte) : '?';
        return fail(m_where + ": expected section " + std::string(tag) + ", found \"" + printable + "\"");
    }
    auto length = TRY(u32(std::string("the length of section ") + std::string(tag)));
    auto body = TRY(take(length, std::string("section ") + std::string(tag)));
    return StateDecoder(body, "section " + std::string(tag));
}

Result<void> StateDecoder::finish() const
{
    if (remaining() != 0)
        return fail(m_where + " has " + std::to_string(remaining()) + " unexpected bytes at its end");
    return {};
}

} // namespace husk
