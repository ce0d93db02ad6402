// ByteWriter: little-endian encoding of payload fields.
#include "guest-init/protocol/byte_writer.hpp"

#include "guest-init/protocol/endian.hpp"

namespace husk::protocol {

namespace {
template<typename T>
void append_le(std::vector<uint8_t>& bytes, T value)
{
    auto offset = bytes.size();
    bytes.resize(offset + sizeof(T));
    store_le(bytes.data() + offset, value);
}
} // namespace

void ByteWriter::write_u16(uint16_t value) { append_le(m_bytes, value); }
void ByteWriter::write_u32(uint32_t value) { append_le(m_bytes, value); }
void ByteWriter::write_u64(uint64_t value) { append_le(m_bytes, value); }

void ByteWriter::write_bytes(std::span<uint8_t const> bytes)
{
    write_u32(static_cast<uint32_t>(bytes.size()));
    m_bytes.insert(m_bytes.end(), bytes.begin(), bytes.end());
}

void ByteWriter::write_string(std::string_view text)
{
    write_u32(static_cast<uint32_t>(text.size()));
    m_bytes.insert(m_bytes.end(), text.begin(), text.end());
}

} // namespace husk::protocol
