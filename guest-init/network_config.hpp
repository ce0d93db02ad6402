// The guest's network settings from the kernel command line: `husk.ip=ADDR/PREFIX`,
// `husk.gw=ADDR` and `husk.dns=ADDR[,ADDR...]` (IPv4), which the host puts there for a sandbox
// with a network device. Pure parsing, so every rejection is unit-tested and fuzzed; applying
// them is network_setup.hpp. The values come from the host, but husk-init checks them as hostile
// input anyway: a malformed one leaves eth0 down rather than half-configured.
#pragma once

#include "guest-init/kernel_cmdline.hpp"
#include "runtime/base/result.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace husk::init {

inline constexpr std::string_view ip_parameter = "husk.ip";
inline constexpr std::string_view gateway_parameter = "husk.gw";
inline constexpr std::string_view dns_parameter = "husk.dns";
// resolv.conf reads at most three nameservers (glibc MAXNS, musl too).
inline constexpr size_t max_nameservers = 3;

// An IPv4 address in network byte order as four octets, a.b.c.d.
using Ipv4Address = std::array<uint8_t, 4>;

struct NetworkConfig {
    Ipv4Address address {};
    unsigned prefix_length { 0 }; // 1..32
    std::optional<Ipv4Address> gateway; // the default route; inside address/prefix
    std::vector<Ipv4Address> nameservers; // at most max_nameservers

    Ipv4Address netmask() const;
    bool operator==(NetworkConfig const&) const = default;
};

// Dotted decimal, exactly four decimal octets 0..255 without leading zeros (which some parsers
// read as octal) or anything else.
Result<Ipv4Address> parse_ipv4_address(std::string_view text);
std::string format_ipv4_address(Ipv4Address const& address);

// nullopt without husk.ip (eth0 stays untouched and down); an error for malformed values,
// unusable addresses (unspecified, 0/8, loopback, multicast, reserved, a subnet's own network or
// broadcast address),
// a gateway outside the subnet or equal to the address, husk.gw or husk.dns without husk.ip,
// or too many nameservers.
Result<std::optional<NetworkConfig>> network_config(KernelCmdline const& cmdline);

// Refresh::network (a restored clone's new settings): the same words and checks as the boot
// command line, but husk.ip is required and nothing else may be there (no other word, no `--`).
Result<NetworkConfig> refreshed_network_config(std::string_view words);

// The /etc/resolv.conf text for `config`'s nameservers (empty when there are none).
std::string resolv_conf_text(NetworkConfig const& config);

} // namespace husk::init
