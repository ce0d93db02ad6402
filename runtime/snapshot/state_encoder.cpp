// StateEncoder: field and section encoding.
#include "runtime/snapshot/state_encoder.hpp"

#include <cassert>

namespace husk {

void StateEncoder::little_endian(uint64_t value, int width)
{
    for (int i = 0; i < width; ++i)
        m_bytes.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void StateEncoder::bytes(std::span<uint8_t const> data)
{
    u32(static_cast<uint32_t>(data.size()));
    m_bytes.insert(m_bytes.end(), data.begin(), data.end());
}

void StateEncoder::string(std::string_view text)
{
    bytes(std::span(reinterpret_cast<uint8_t const*>(text.data()), text.size()));
}

void StateEncoder::begin_section(std::string_view tag)
{
    assert(tag.size() == 4 && !m_in_section);
    m_bytes.insert(m_bytes.end(), tag.begin(), tag.end());
    m_section_length_at = m_bytes.size();
    u32(0); // patched by end_section
    m_in_section = true;
}

void StateEncoder::end_section()
{
    assert(m_in_section);
    auto length = static_cast<uint32_t>(m_bytes.size() - m_section_length_at - 4);
    for (int i = 0; i < 4; ++i)
        m_bytes[m_section_length_at + static_cast<size_t>(i)] = static_cast<uint8_t>(length >> (8 * i));
    m_in_section = false;
}

} // namespace husk
