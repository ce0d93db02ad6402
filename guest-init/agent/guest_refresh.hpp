// What the agent does for a Refresh (guest-init/protocol/messages.hpp), the first message a host
// sends to a VM restored from a snapshot: a restored guest is a copy, so its clock is as old as
// the snapshot, its kernel RNG state is shared with every other copy and its hostname is the
// original's. Linux reseeds from a VM generation id only through ACPI, which husk guests lack,
// hence this explicit step.
#pragma once

#include "guest-init/protocol/messages.hpp"
#include "runtime/base/result.hpp"

namespace husk::agent {

// Sets CLOCK_REALTIME, credits the entropy to the input pool (RNDADDENTROPY) and forces a reseed
// of the kernel's RNG (RNDRESEEDCRNG), then sets the hostname. Needs CAP_SYS_TIME and
// CAP_SYS_ADMIN: husk-init runs as root. With `network`, moves eth0 to those settings (down, new
// address, netmask, up, default route, /etc/resolv.conf when it names nameservers), checked
// first as at boot (init::refreshed_network_config): a malformed value changes nothing of eth0.
// The first failure is returned; what came before stays.
Result<void> apply_refresh(protocol::Refresh const& refresh);

} // namespace husk::agent
