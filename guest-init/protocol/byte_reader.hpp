// ByteReader: bounded, checked reads of payload fields from untrusted bytes. Every read names its
// field so errors say what was wrong ("argv[3]: 70000 bytes exceeds 65536"); no read ever goes
// past the payload, and lengths and counts are checked against what remains before any
// allocation.
#pragma once

#include "runtime/base/result.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace husk::protocol {

// Whether a string becomes a C string on the far side (argv, env, paths): an embedded NUL would
// silently truncate it there, so it is rejected.
enum class NulBytes : uint8_t {
    Allowed,
    Rejected,
};

class ByteReader {
public:
    explicit ByteReader(std::span<uint8_t const> bytes)
        : m_bytes(bytes)
    {
    }

    Result<uint8_t> read_u8(std::string_view field);
    Result<uint16_t> read_u16(std::string_view field);
    Result<uint32_t> read_u32(std::string_view field);
    Result<uint64_t> read_u64(std::string_view field);
    Result<int64_t> read_i64(std::string_view field);
    // Exactly 0 or 1: any other byte is an error, which keeps the encoding canonical.
    Result<bool> read_bool(std::string_view field);
    Result<std::vector<uint8_t>> read_bytes(std::string_view field, size_t max_size);
    Result<std::string> read_string(std::string_view field, size_t max_size, NulBytes nul_bytes);
    // A list count, rejected when above max_count or when count * min_element_size is more than
    // what remains (so a forged count cannot make the caller reserve memory).
    Result<uint32_t> read_count(std::string_view field, size_t max_count, size_t min_element_size);

    // Decoding must consume the payload exactly.
    Result<void> expect_end() const;
    size_t remaining() const { return m_bytes.size() - m_offset; }

private:
    Result<std::span<uint8_t const>> take(std::string_view field, size_t size);
    Result<std::span<uint8_t const>> take_prefixed(std::string_view field, size_t max_size);

    std::span<uint8_t const> m_bytes;
    size_t m_offset { 0 };
};

} // namespace husk::protocol
