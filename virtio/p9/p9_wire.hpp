// WireReader / WireWriter: bounds-checked little-endian 9P field access on a byte span. The
// reader fails (and stays failed) on the first field that runs past the end, so a message parser
// can read every field and check once; the writer does the same when the reply buffer is full.
// Strings are length-prefixed (u16) and never NUL-terminated on the wire.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace husk::p9 {

struct Qid {
    uint8_t type { 0 };
    uint32_t version { 0 };
    uint64_t path { 0 };
    bool operator==(Qid const&) const = default;
};
inline constexpr uint32_t qid_size = 13;

class WireReader {
public:
    explicit WireReader(std::span<uint8_t const> bytes)
        : m_bytes(bytes)
    {
    }

    uint8_t u8() { return static_cast<uint8_t>(integer(1)); }
    uint16_t u16() { return static_cast<uint16_t>(integer(2)); }
    uint32_t u32() { return static_cast<uint32_t>(integer(4)); }
    uint64_t u64() { return integer(8); }
    // A view into the message; empty when the reader failed.
    std::string_view string()
    {
        auto bytes = this->bytes(u16());
        return { reinterpret_cast<char const*>(bytes.data()), bytes.size() };
    }
    std::span<uint8_t const> bytes(uint64_t count)
    {
        if (m_failed || count > m_bytes.size() - m_offset) {
            m_failed = true;
            return {};
        }
        auto view = m_bytes.subspan(m_offset, count);
        m_offset += count;
        return view;
    }

    bool failed() const { return m_failed; }
    size_t remaining() const { return m_failed ? 0 : m_bytes.size() - m_offset; }

private:
    uint64_t integer(size_t width)
    {
        auto raw = bytes(width);
        uint64_t value = 0;
        for (size_t i = raw.size(); i > 0; --i)
            value = (value << 8) | raw[i - 1];
        return value;
    }

    std::span<uint8_t const> m_bytes;
    size_t m_offset { 0 };
    bool m_failed { false };
};

class WireWriter {
public:
    explicit WireWriter(std::span<uint8_t> buffer)
        : m_buffer(buffer)
    {
    }

    void u8(uint8_t value) { integer(value, 1); }
    void u16(uint16_t value) { integer(value, 2); }
    void u32(uint32_t value) { integer(value, 4); }
    void u64(uint64_t value) { integer(value, 8); }
    void string(std::string_view text)
    {
        if (text.size() > UINT16_MAX) {
            m_failed = true;
            return;
        }
        u16(static_cast<uint16_t>(text.size()));
        bytes({ reinterpret_cast<uint8_t const*>(text.data()), text.size() });
    }
    void qid(Qid const& qid)
    {
        u8(qid.type);
        u32(qid.version);
        u64(qid.path);
    }
    void bytes(std::span<uint8_t const> data)
    {
        if (auto* target = reserve(data.size()); target && !data.empty())
            std::memcpy(target, data.data(), data.size());
    }
    // `count` bytes at the current position for the caller to fill (e.g. by read(2)), or null.
    uint8_t* reserve(size_t count)
    {
        if (m_failed || count > m_buffer.size() - m_offset) {
            m_failed = true;
            return nullptr;
        }
        uint8_t* at = m_buffer.data() + m_offset;
        m_offset += count;
        return at;
    }
    // Gives back the tail of the last reserve() that was not filled.
    void unreserve(size_t count) { m_offset -= count <= m_offset ? count : m_offset; }
    // Overwrites a u32 written earlier at `offset` (message size, Rread count).
    void patch_u32(size_t offset, uint32_t value)
    {
        if (offset + 4 > m_offset)
            return;
        for (size_t i = 0; i < 4; ++i)
            m_buffer[offset + i] = static_cast<uint8_t>(value >> (8 * i));
    }

    bool failed() const { return m_failed; }
    size_t size() const { return m_offset; }
    size_t room() const { return m_failed ? 0 : m_buffer.size() - m_offset; }

private:
    void integer(uint64_t value, size_t width)
    {
        auto* target = reserve(width);
        if (!target)
            return;
        for (size_t i = 0; i < width; ++i)
            target[i] = static_cast<uint8_t>(value >> (8 * i));
    }

    std::span<uint8_t> m_buffer;
    size_t m_offset { 0 };
    bool m_failed { false };
};

} // namespace husk::p9
