// Formats numbers for error messages of the boot code (addresses and sizes read best in hex).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace husk {

inline std::string hex(uint64_t value)
{
    char text[24];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
    return text;
}

} // namespace husk
