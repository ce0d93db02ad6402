// The addresses and names of one sandbox's network, all derived from its slot in husk's pool.
// The pool is 10.231.0.0/16, cut into /29 blocks, one per concurrently running sandbox (8192):
//   .0/30  the veth link:  .1 host end (husk-v<slot>), .2 sandbox end (uplink)
//   .4/30  the tap link:   .5 the gateway (the tap, and the DNS forwarder), .6 the guest
// 10/8 is always denied to every sandbox, so no sandbox reaches another, nor the host's ends.
// Which slot a sandbox gets is decided by AddressLease (a lock file per slot), never here.
#pragma once

#include "runtime/net/ipv4.hpp"

#include <cstdint>
#include <string>

namespace husk {

inline constexpr Ipv4Cidr sandbox_address_pool { Ipv4Address { 0x0ae70000 }, 16 }; // 10.231.0.0/16
inline constexpr unsigned sandbox_block_prefix = 29;
inline constexpr uint32_t sandbox_slot_count = uint32_t { 1 } << (sandbox_block_prefix - sandbox_address_pool.prefix);

struct SandboxAddresses {
    uint32_t slot { 0 };
    Ipv4Cidr block; // the /29
    Ipv4Address host_end; // host side of the veth pair
    Ipv4Address sandbox_end; // sandbox-namespace side of the veth pair
    Ipv4Address gateway; // the tap's address: the guest's default route and resolver
    Ipv4Address guest; // eth0 in the guest
    Ipv4Cidr guest_link; // gateway and guest: the /30 the guest's prefix says

    // Names in the host: the network namespace (/run/netns/<netns>), the host end of the veth
    // pair (an interface name: 15 characters at most) and the nftables table in the host
    // namespace (publish DNAT and masquerade).
    std::string netns_name() const { return "husk-net-" + std::to_string(slot); }
    std::string host_veth_name() const { return "husk-v" + std::to_string(slot); }
    std::string host_table_name() const { return "husk_" + std::to_string(slot); }
};

// Names inside the sandbox namespace (the same in every sandbox).
inline constexpr char const* sandbox_uplink_name = "uplink";
inline constexpr char const* sandbox_tap_name = "husk-tap";
inline constexpr char const* sandbox_table_name = "husk";

// slot < sandbox_slot_count (checked by the caller; the value wraps otherwise).
SandboxAddresses sandbox_addresses(uint32_t slot);

} // namespace husk
