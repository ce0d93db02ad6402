// hex(): numbers in hexadecimal for error and log messages, where addresses, sizes, offsets and
// magic values read best that way. The one formatter every runtime/, virtio/ and guest-init/
// message uses, so they all print the same way ("0x1f", or "0x0000001f" with a minimum width).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

namespace husk {

// `value` as "0x" and lower-case digits, zero-padded to at least `min_digits` (at most 16).
inline std::string hex(uint64_t value, int min_digits = 0)
{
    char text[24]; // "0x", 16 digits, NUL
    std::snprintf(text, sizeof text, "0x%0*llx", std::clamp(min_digits, 0, 16), static_cast<unsigned long long>(value));
    return text;
}

} // namespace husk
