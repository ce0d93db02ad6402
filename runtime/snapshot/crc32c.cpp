// CRC-32C with a 256-entry table built at compile time.
#include "runtime/snapshot/crc32c.hpp"

#include <array>

namespace husk {

namespace {
    constexpr uint32_t castagnoli_reflected = 0x82f6'3b78;

    constexpr std::array<uint32_t, 256> make_table()
    {
        std::array<uint32_t, 256> table {};
        for (uint32_t byte = 0; byte < 256; ++byte) {
            uint32_t crc = byte;
            for (int bit = 0; bit < 8; ++bit)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ castagnoli_reflected : crc >> 1;
            table[byte] = crc;
        }
        return table;
    }

    constexpr auto table = make_table();
} // namespace

uint32_t crc32c(std::span<uint8_t const> bytes)
{
    uint32_t crc = 0xffff'ffff;
    for (uint8_t byte : bytes)
        crc = table[(crc ^ byte) & 0xff] ^ (crc >> 8);
    return crc ^ 0xffff'ffff;
}

} // namespace husk
