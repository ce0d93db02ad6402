// StateEncoder: appends the fields of a snapshot state file, little-endian, each at its own
// width. Sections (a four-letter tag and a byte length) group them, so a reader can say which
// part of a file is wrong. Kernel ABI structs (KVM's) are stored as their uapi byte image with
// its length, which the reader checks against the struct's size.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace husk {

class StateEncoder {
public:
    void u8(uint8_t value) { m_bytes.push_back(value); }
    void u16(uint16_t value) { little_endian(value, 2); }
    void u32(uint32_t value) { little_endian(value, 4); }
    void u64(uint64_t value) { little_endian(value, 8); }
    void i64(int64_t value) { u64(static_cast<uint64_t>(value)); }
    void boolean(bool value) { u8(value ? 1 : 0); }
    // A u32 length, then the bytes.
    void bytes(std::span<uint8_t const> data);
    void string(std::string_view text);
    // A trivially copyable kernel struct as a length-prefixed byte image.
    template<typename T>
    void blob(T const& object)
    {
        static_assert(std::is_trivially_copyable_v<T>);
        bytes(std::span(reinterpret_cast<uint8_t const*>(&object), sizeof(T)));
    }

    // Starts a section: `tag` is four ASCII letters. Sections do not nest.
    void begin_section(std::string_view tag);
    void end_section();

    std::vector<uint8_t> const& data() const { return m_bytes; }
    std::vector<uint8_t> take() { return std::move(m_bytes); }

private:
    void little_endian(uint64_t value, int width);

    std::vector<uint8_t> m_bytes;
    size_t m_section_length_at { 0 };
    bool m_in_section { false };
};

} // namespace husk
