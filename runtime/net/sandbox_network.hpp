// SandboxNetwork: the network around one sandbox, built as root by husk-vmm's jailed launcher
// before it forks the VMM, and removed when the VMM has ended:
//
//   host namespace                         sandbox namespace husk-net-<slot>
//   husk-v<slot> 10.231.x.1/30 ── veth ──  uplink 10.231.x.2/30 (default route)
//   table inet husk_<slot>:                husk-tap 10.231.x.5/30 (persistent tap, owned by the
//     DNAT of --publish ports,               jail uid, vnet_hdr, up): husk-vmm attaches to it
//     masquerade of the /29                table inet husk: the deny-by-default policy
//   route to the guest's /30               dnsmasq on 10.231.x.5 (when names or internet)
//                                          guest eth0 10.231.x.6/30 via the tap
//
// The policy lives in the sandbox's namespace, which is owned by the host's user namespace: the
// jailed VMM joins it but has dropped to an unprivileged uid with no capabilities (and its
// seccomp filters allow no netlink socket) before the guest runs, so neither it nor the guest
// can change the rules; the tap descriptor it holds moves frames, not rules.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/net/address_lease.hpp"
#include "runtime/net/ipv4.hpp"
#include "runtime/net/network_policy.hpp"
#include "runtime/net/published_port.hpp"
#include "runtime/net/sandbox_addresses.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace husk {

struct SandboxNetworkRequest {
    NetworkPolicy policy; // must have a network
    std::vector<PublishedPort> published;
    // The tap's owner: the jail's ids, so the VMM can attach to it with or without root.
    uint32_t tap_uid { 0 };
    uint32_t tap_gid { 0 };
    std::string owner; // the jail id, recorded in the slot's lock file
    std::vector<Ipv4Address> dns_upstreams; // empty: the non-loopback servers of /etc/resolv.conf
    std::string state_directory { default_network_state_directory };
};

class SandboxNetwork {
public:
    // Reaps abandoned slots, claims one, builds everything; on failure removes what it built.
    static Result<std::unique_ptr<SandboxNetwork>> create(SandboxNetworkRequest const& request);

    SandboxNetwork(SandboxNetwork const&) = delete;
    SandboxNetwork& operator=(SandboxNetwork const&) = delete;
    ~SandboxNetwork() { tear_down(); }

    SandboxAddresses const& addresses() const { return m_addresses; }
    std::string namespace_path() const;
    std::string tap_name() const { return sandbox_tap_name; }
    bool has_dns_forwarder() const { return m_dns_forwarder.has_value(); }

    // husk.ip=GUEST/30 husk.gw=GATEWAY [husk.dns=GATEWAY], for husk-init's eth0.
    std::string guest_kernel_arguments() const;

    // Removes everything (idempotent). Needs no fork, so it works after the VMM has ended.
    void tear_down();

private:
    SandboxNetwork(AddressLease lease, SandboxAddresses addresses)
        : m_lease(std::move(lease))
        , m_addresses(std::move(addresses))
    {
    }
    Result<void> build(SandboxNetworkRequest const& request);
    Result<void> start_dns_forwarder(SandboxNetworkRequest const& request);

    AddressLease m_lease;
    SandboxAddresses m_addresses;
    std::optional<pid_t> m_dns_forwarder;
};

} // namespace husk
