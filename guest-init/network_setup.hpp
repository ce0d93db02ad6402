// Applying the guest's network settings (network_config.hpp): loopback up, eth0's address,
// netmask and state, the default route and /etc/resolv.conf, all through the classic ioctls on
// an AF_INET socket (no netlink library in a static PID 1). Runs after the root switch, so the
// resolver file lands in the job's root.
#pragma once

#include "guest-init/network_config.hpp"
#include "runtime/base/result.hpp"

#include <string_view>

namespace husk::init {

inline constexpr std::string_view guest_interface = "eth0";
inline constexpr char const* resolv_conf_path = "/etc/resolv.conf";

// `lo` up: 127.0.0.1 works for every job, with or without a network device.
Result<void> bring_up_loopback();
// IFF_UP cleared on `interface`: Linux then drops its routes and its neighbour (ARP) entries,
// and closes nothing else (a restored clone moves eth0 to new addresses this way).
Result<void> take_down(std::string_view interface);
// Address, netmask, IFF_UP on `interface`, then the default route through the gateway, if any.
Result<void> configure_interface(std::string_view interface, NetworkConfig const& config);
// Replaces /etc/resolv.conf (a symlink there is removed, never followed); nothing without
// nameservers.
Result<void> write_resolv_conf(NetworkConfig const& config);

} // namespace husk::init
