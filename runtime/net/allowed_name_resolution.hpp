// Host names of an allow-list resolved when the policy is built: each A record of NAME becomes
// an allowed address (with NAME's port), so a guest that connects to an address it got some
// other way (hard-coded, its own resolver) reaches the name's servers from the first packet. The
// per-sandbox DNS forwarder still adds whatever the guest resolves later (names whose addresses
// change, subdomains, names that did not resolve on the host at start).
// Addresses inside always_denied_ipv4() are left out: a name never opens a private range.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/net/ipv4.hpp"
#include "runtime/net/network_policy.hpp"

#include <functional>
#include <string>
#include <vector>

namespace husk {

// A name's IPv4 addresses, or an error (unknown name, no resolver).
using Ipv4Resolver = std::function<Result<std::vector<Ipv4Address>>(std::string const& name)>;

// getaddrinfo(AF_INET) with the host's resolver configuration (/etc/hosts, /etc/resolv.conf).
Result<std::vector<Ipv4Address>> resolve_ipv4_on_host(std::string const& name);

struct ResolvedNames {
    NetworkPolicy policy; // the input with one /32 AllowedAddress per usable address found
    std::vector<std::string> notes; // one line per name: what it resolved to, or why not
};

// Pure but for `resolve`: unit-tested with a fake resolver.
ResolvedNames resolve_allowed_names(NetworkPolicy const& policy, Ipv4Resolver const& resolve);

} // namespace husk
