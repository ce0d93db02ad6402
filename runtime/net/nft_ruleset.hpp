// The nftables rules of one sandbox, generated as `nft -f` text (pure, unit-tested as text).
//
// sandbox_ruleset() is loaded into the sandbox's own network namespace (table inet husk). The
// forward chain is deny-by-default for what the guest sends through its tap: established and
// related traffic is accepted; IPv6, a source other than the guest's address and anything to
// always_denied_ipv4(), the host's own addresses or another sandbox (10/8 holds the pool) is
// dropped; then the allow sets (or, for `internet`, everything else) are accepted; the rest is
// rejected (fast for the guest), and the chain policy is drop. The input chain lets the guest
// reach only the DNS forwarder on the gateway. Published ports are the one way in.
//
// host_ruleset() is loaded into the host namespace (table inet husk_<slot>): DNAT of each
// published host port to the guest, and masquerade of the sandbox's /29 on the way out.
#pragma once

#include "runtime/net/ipv4.hpp"
#include "runtime/net/network_policy.hpp"
#include "runtime/net/published_port.hpp"
#include "runtime/net/sandbox_addresses.hpp"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace husk {

struct SandboxRulesInput {
    SandboxAddresses addresses;
    NetworkPolicy policy;
    std::vector<PublishedPort> published;
    std::vector<Ipv4Address> host_addresses; // the host namespace's own addresses, all denied
    bool dns_forwarder { false }; // the guest may query the gateway on port 53
};

std::string sandbox_ruleset(SandboxRulesInput const& input);

// `host_addresses`: where a published port listens (loopback is left out).
std::string host_ruleset(SandboxAddresses const& addresses, std::span<PublishedPort const> published,
    std::span<Ipv4Address const> host_addresses);

// Deletes the host table of a slot (teardown and reaping); `nft` fails when it is absent.
std::string host_ruleset_removal(SandboxAddresses const& addresses);

// The set the DNS forwarder adds a name's answers to: names_any, or names_p<PORT>.
std::string name_set(std::optional<uint16_t> port);

} // namespace husk
