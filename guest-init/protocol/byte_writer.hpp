// ByteWriter: appends little-endian scalars and u32-length-prefixed fields to a payload buffer.
// It does not enforce protocol limits: validate_message() does that before a checked encode, and
// whatever the writer produces the decoder checks again.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace husk::protocol {

class ByteWriter {
public:
    void write_u8(uint8_t value) { m_bytes.push_back(value); }
    void write_u16(uint16_t value);
    void write_u32(uint32_t value);
    void write_u64(uint64_t value);
    void write_i64(int64_t value) { write_u64(static_cast<uint64_t>(value)); }
    void write_bool(bool value) { write_u8(value ? 1 : 0); }
    // u32 length, then the bytes.
    void write_bytes(std::span<uint8_t const> bytes);
    void write_string(std::string_view text);
    // u32 element count of a list that follows.
    void write_count(size_t count) { write_u32(static_cast<uint32_t>(count)); }

    size_t size() const { return m_bytes.size(); }
    std::vector<uint8_t> take() { return std::move(m_bytes); }

private:
    std::vector<uint8_t> m_bytes;
};

} // namespace husk::protocol
