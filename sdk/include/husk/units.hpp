// Parsing of the sizes and durations users type: "256M", "1GiB", "30s", "500ms". Shared by the CLI
// and by programs that read husk settings from their own configuration.
#pragma once

#include "husk/result.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

// In a namespace of their own: husk-vmm has same-named parsers (runtime/main/value_parsing.hpp)
// with its own bounds, and a test binary links both.
namespace husk::units {

/// Parses a byte count: digits, then an optional binary unit, case-insensitive: B, K/KB/KiB,
/// M/MB/MiB, G/GB/GiB, T/TB/TiB (all powers of 1024, as docker --memory). "256M" = 256 MiB.
/// Rejects empty text, signs, fractions, unknown units and values that overflow 64 bits.
Result<uint64_t> parse_size(std::string_view text);

/// Parses a duration: an integer with a unit ms, s, m or h ("500ms", "30s", "2m"), or a bare
/// integer of seconds. Rejects empty text, signs, fractions, unknown units, overflow.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

/// "256 MiB", "1.5 GiB", "512 B": for messages.
std::string format_size(uint64_t bytes);

} // namespace husk::units
