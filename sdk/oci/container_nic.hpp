// What a container's NIC is made of, once husk-oci has moved it from its engine's network
// namespace into the VM (container_network.hpp does the moving): the namespace (and its identity
// at create, so `delete` never touches a namespace that merely reuses the path), the interface
// the engine made (eth0, a veth) and the address, gateway and MAC it had, which the guest's eth0
// now carries. Kept in <root>/<id>/network.json for `delete`. Also the pure steps of finding
// that interface: which one carries the IPv4 address, and its default gateway in the kernel's
// route table text (/proc/net/route).
#pragma once

#include "husk/options.hpp"
#include "runtime/base/result.hpp"
#include "runtime/net/ipv4.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace husk::oci {

/// In the engine's namespace: the bridge joining its interface and the VM's tap.
inline constexpr char const* nic_bridge_name = "husk-br0";
inline constexpr char const* nic_tap_name = "husk-tap0";
inline constexpr char const* nic_record_file = "network.json";

struct ContainerNic {
    std::string netns; ///< as config.json names it
    uint64_t netns_device { 0 }; ///< st_dev and st_ino of the namespace at create
    uint64_t netns_inode { 0 };
    std::string interface; ///< the engine's interface, "eth0"
    std::string mac; ///< its MAC before husk-oci changed it: the guest's
    std::string address; ///< "10.88.0.5/16"
    std::string gateway; ///< "10.88.0.1", or "" without a default route through it
    bool operator==(ContainerNic const&) const = default;
};

/// One IPv4 address of an interface of the namespace (getifaddrs).
struct InterfaceAddress {
    std::string interface;
    Ipv4Address address;
    unsigned prefix { 0 };
    bool loopback { false };
};

/// The one address the VM takes over: nullopt when no interface but loopback has one (podman's
/// `--network none`), an error when there are several (husk-oci gives a VM one NIC).
Result<std::optional<InterfaceAddress>> address_for_the_vm(std::vector<InterfaceAddress> const& addresses);

/// The default route's gateway through `interface` in /proc/net/route's text; nullopt without
/// one. Malformed text is an error.
Result<std::optional<Ipv4Address>> default_gateway(std::string_view route_table, std::string_view interface);

/// The guest's side: husk-vmm joins the namespace and opens nic_tap_name there.
TapNetwork tap_network_for(ContainerNic const& nic);

std::string nic_to_json(ContainerNic const& nic);
/// Strict, like the other state files: every field, with its type.
Result<ContainerNic> parse_nic(std::string_view json_text);

} // namespace husk::oci
