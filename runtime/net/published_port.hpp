// `--publish HOST_PORT:GUEST_PORT` (docker's -p, TCP only): connections to HOST_PORT on the
// host's addresses reach GUEST_PORT in the guest. Pure parsing, unit-tested and fuzzed.
#pragma once

#include "runtime/base/result.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace husk {

struct PublishedPort {
    uint16_t host_port { 0 };
    uint16_t guest_port { 0 };
    bool operator==(PublishedPort const&) const = default;
};

inline constexpr size_t max_published_ports = 32;

// HOST_PORT:GUEST_PORT, optionally followed by /tcp; /udp and anything else are refused.
Result<PublishedPort> parse_published_port(std::string_view text);

// A host port published twice, or more than max_published_ports, is an error.
Result<void> check_published_ports(std::span<PublishedPort const> ports);

std::string to_string(PublishedPort const& port);

} // namespace husk
