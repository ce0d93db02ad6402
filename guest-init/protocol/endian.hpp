// Little-endian loads and stores for the wire format, independent of host byte order and of
// alignment (byte by byte; compilers turn these into single moves on x86).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

namespace husk::protocol {

template<std::unsigned_integral T>
void store_le(uint8_t* out, T value)
{
    for (size_t i = 0; i < sizeof(T); ++i)
        out[i] = static_cast<uint8_t>(value >> (8 * i));
}

template<std::unsigned_integral T>
T load_le(uint8_t const* in)
{
    T value = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
        value |= static_cast<T>(static_cast<T>(in[i]) << (8 * i));
    return value;
}

} // namespace husk::protocol
