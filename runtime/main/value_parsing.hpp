// Strict parsers for command line values: sizes ("128M") and durations ("30s"). No locale, no
// whitespace, no signs; every malformed value is an error naming what was wrong.
#pragma once

#include "runtime/base/result.hpp"

#include <chrono>
#include <cstdint>
#include <string_view>

namespace husk {

// Decimal bytes with an optional binary suffix K, M, G or T (case-insensitive): "134217728",
// "512K", "128M", "1G". Rejects empty, garbage, zero, overflow and sizes that are not a multiple
// of 4 KiB (guest memory is mapped in pages).
Result<uint64_t> parse_size(std::string_view text);

inline constexpr uint64_t min_memory_bytes = 32ull << 20;
inline constexpr uint64_t max_memory_bytes = 64ull << 30;
// parse_size plus the bounds husk supports for guest RAM: [32 MiB, 64 GiB].
Result<uint64_t> parse_memory_size(std::string_view text);

// Decimal with a unit ms, s, m or h; a bare number means seconds: "500ms", "30s", "2m", "1h",
// "10". Rejects empty, garbage, zero and overflow.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// Decimal in [minimum, maximum], nothing else.
Result<uint64_t> parse_bounded_integer(std::string_view text, uint64_t minimum, uint64_t maximum);

} // namespace husk
