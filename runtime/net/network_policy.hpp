// What a sandbox may reach: `--net MODE` of husk-vmm and `husk run`, SandboxOptions::network.
//   none            no network device at all (the default)
//   internet        public unicast IPv4 only (never the ranges in always_denied_ipv4())
//   allow=LIST      only what LIST names: comma-separated CIDR[:PORT] and NAME[:PORT]; a name
//                   allows itself and its subdomains, as the sandbox's DNS forwarder resolves
//                   them (runtime/net/dns_forwarder.hpp); a port applies to TCP and UDP
// Pure parsing: every rejection has a unit test and tests/fuzz/net_policy_fuzz.cpp feeds it.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/net/ipv4.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace husk {

enum class NetworkMode { None, Internet, Allow };

struct AllowedAddress {
    Ipv4Cidr cidr;
    std::optional<uint16_t> port; // nullopt: every port
    bool operator==(AllowedAddress const&) const = default;
};

struct AllowedName {
    std::string name; // lower case, no trailing dot
    std::optional<uint16_t> port;
    bool operator==(AllowedName const&) const = default;
};

struct NetworkPolicy {
    NetworkMode mode { NetworkMode::None };
    std::vector<AllowedAddress> addresses; // mode Allow only
    std::vector<AllowedName> names; // mode Allow only
    bool operator==(NetworkPolicy const&) const = default;

    bool has_network() const { return mode != NetworkMode::None; }
};

inline constexpr size_t max_allow_entries = 64;
inline constexpr size_t max_allow_text = 4096;

// The destinations no policy can open: this network, private ranges, CGNAT, loopback,
// link-local (cloud metadata at 169.254.169.254), multicast and the reserved 240/4 with
// broadcast. The host's own addresses and other sandboxes are added at set-up time.
std::span<Ipv4Cidr const> always_denied_ipv4();

Result<NetworkPolicy> parse_network_policy(std::string_view text);

// The text that parses back to the same policy (for the SDK's command line and messages).
std::string to_string(NetworkPolicy const& policy);

// A DNS name as policies accept it: letters, digits and hyphens in dot-separated labels of
// 1..63 characters (no leading or trailing hyphen), 253 characters at most, at least two labels,
// the last one not all digits. One trailing dot is dropped; the result is lower case.
Result<std::string> parse_dns_name(std::string_view text);

} // namespace husk
