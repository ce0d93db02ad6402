// IPv4 addresses and CIDR blocks as the network policy, the address pool and the generated
// nftables rules use them. Pure parsing and formatting: every rejection is unit-tested.
#pragma once

#include "runtime/base/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace husk {

struct Ipv4Address {
    uint32_t value { 0 }; // host byte order: 10.0.0.1 is 0x0a000001
    auto operator<=>(Ipv4Address const&) const = default;
};

struct Ipv4Cidr {
    Ipv4Address address; // the first address of the block (host bits are zero)
    unsigned prefix { 32 };
    auto operator<=>(Ipv4Cidr const&) const = default;

    uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t { 0 } << (32 - prefix); }
    bool contains(Ipv4Address other) const { return (other.value & mask()) == address.value; }
    bool overlaps(Ipv4Cidr const& other) const;
};

// Dotted quad, exactly four decimal parts 0..255, no leading zeros (010 is octal to some
// parsers: refused rather than guessed), nothing else.
Result<Ipv4Address> parse_ipv4_address(std::string_view text);

// ADDRESS or ADDRESS/PREFIX (0..32); an address alone is a /32. Host bits must be zero:
// 10.1.2.3/8 is refused, because the user probably meant something else.
Result<Ipv4Cidr> parse_ipv4_cidr(std::string_view text);

std::string to_string(Ipv4Address address);
std::string to_string(Ipv4Cidr const& cidr); // always with /PREFIX

} // namespace husk
