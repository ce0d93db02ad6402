// MAC addresses for the virtio-net device: parsing the `mac=` of --net-tap, printing, and the
// default, a random locally administered unicast address per VM (as QEMU and Firecracker users
// pick one per VM: two VMs on one host must not share one).
#pragma once

#include "runtime/base/result.hpp"
#include "virtio/net/net_device.hpp"

#include <string>
#include <string_view>

namespace husk {

// Six two-digit hex bytes separated by ':' ("02:ab:00:00:00:01"). Refuses multicast (the low bit
// of the first byte) and all-zero addresses: neither can be a NIC's own address.
Result<MacAddress> parse_mac_address(std::string_view text);
std::string format_mac_address(MacAddress const& mac);
// Random, with the locally administered bit set and the multicast bit clear.
Result<MacAddress> random_local_mac_address();

} // namespace husk
