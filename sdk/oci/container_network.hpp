// The container's NIC in its engine's network namespace (podman's netavark or CNI, containerd's
// CNI, or any runc-style caller): config.json's linux.namespaces names a namespace whose one
// interface with an IPv4 address (eth0, a veth whose peer is on the engine's bridge) is how the
// container reaches its network. runc's container uses that interface itself; a VM cannot, so
// `create` (as root) hands it over: in that namespace it makes a bridge (nic_bridge_name) with
// eth0 and a persistent tap (nic_tap_name) as its ports, gives eth0 a new random MAC and removes
// its IPv4 address (its routes go with it), and the guest's eth0 gets the old MAC, the address
// and the default gateway, so the engine's bridge, ARP caches, port forwarding and NAT see the
// same neighbour as with runc. husk-vmm joins the namespace and attaches to the tap
// (--net-namespace). No policy of husk's: the engine owns its network. `delete` undoes it.
#pragma once

#include "sdk/oci/container_nic.hpp"

#include "runtime/base/result.hpp"

#include <optional>
#include <string>

namespace husk::oci {

/// Builds the NIC in the namespace at `netns_path`; nullopt (nothing done) when no interface but
/// loopback has an IPv4 address there (`--network none`).
Result<std::optional<ContainerNic>> attach_container_nic(std::string const& netns_path);

/// Removes the bridge and the tap and gives the engine's interface back its MAC, address and
/// route, when the namespace is still the one of `nic` (the engine may have removed it already:
/// then there is nothing left to do).
Result<void> detach_container_nic(ContainerNic const& nic);

} // namespace husk::oci
