// StateDecoder: reads what StateEncoder wrote, from untrusted bytes. Every read is bounds
// checked and fails with a message naming the section and the field, never reading past the end;
// lengths are checked against what remains before anything is allocated.
#pragma once

#include "runtime/base/result.hpp"

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace husk {

class StateDecoder {
public:
    // `where` names the bytes in error messages ("state file", "section VCPU").
    StateDecoder(std::span<uint8_t const> bytes, std::string where)
        : m_bytes(bytes)
        , m_where(std::move(where))
    {
    }

    Result<uint8_t> u8(std::string_view field);
    Result<uint16_t> u16(std::string_view field);
    Result<uint32_t> u32(std::string_view field);
    Result<uint64_t> u64(std::string_view field);
    Result<int64_t> i64(std::string_view field);
    // Only 0 or 1.
    Result<bool> boolean(std::string_view field);
    // A u32 length and that many bytes, at most `max_size`.
    Result<std::vector<uint8_t>> bytes(std::string_view field, size_t max_size);
    Result<std::string> string(std::string_view field, size_t max_size);
    // A kernel struct stored by StateEncoder::blob: the stored length must be sizeof(T).
    template<typename T>
    Result<T> blob(std::string_view field)
    {
        static_assert(std::is_trivially_copyable_v<T>);
        auto length = TRY(u32(field));
        if (length != sizeof(T))
            return fail(m_where + ": " + std::string(field) + " has " + std::to_string(length) + " bytes, expected "
                + std::to_string(sizeof(T)));
        auto raw = TRY(take(sizeof(T), field));
        T object;
        std::memcpy(&object, raw.data(), sizeof(T));
        return object;
    }

    // The next section, which must carry `tag`; this decoder moves past it.
    Result<StateDecoder> section(std::string_view tag);
    // Fails if bytes are left over (a section longer than its fields).
    Result<void> finish() const;
    size_t remaining() const { return m_bytes.size() - m_offset; }

private:
    Result<std::span<uint8_t const>> take(size_t size, std::string_view field);
    Result<uint64_t> little_endian(int width, std::string_view field);

    std::span<uint8_t const> m_bytes;
    size_t m_offset { 0 };
    std::string m_where;
};

} // namespace husk
