// The per-sandbox DNS forwarder: dnsmasq in the sandbox's network namespace, listening on the
// gateway address only. For `internet` it forwards every name to the upstream servers. For
// `allow=` with names it forwards only the allowed names (and their subdomains), answers REFUSED
// for the rest (DNS is not a way out for other names), and adds each IPv4 answer to the
// policy's nftables set for that name's port (dnsmasq's --nftset), so the guest can reach what
// it resolved and nothing else. Pure parts here (arguments, resolv.conf), unit-tested.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/net/ipv4.hpp"
#include "runtime/net/network_policy.hpp"
#include "runtime/net/sandbox_addresses.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace husk {

// internet, or allow= with at least one name.
bool needs_dns_forwarder(NetworkPolicy const& policy);

// The IPv4 `nameserver` lines of a resolv.conf a sandbox can reach: loopback resolvers (a
// local stub such as 127.0.0.53) live in the host's namespace and are skipped.
std::vector<Ipv4Address> upstream_servers_from_resolv_conf(std::string_view text);

// dnsmasq's argv (without the program), running in the foreground.
std::vector<std::string> dnsmasq_arguments(
    SandboxAddresses const& addresses, NetworkPolicy const& policy, std::vector<Ipv4Address> const& upstreams);

} // namespace husk
