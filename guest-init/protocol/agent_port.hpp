// The vsock port the husk-init agent listens on inside the guest. The host SDK connects to it
// through the VMM's hybrid-vsock socket (`CONNECT 1024\n`). Header-only, shared by guest and host.
#pragma once

#include <cstdint>

namespace husk::protocol {

inline constexpr uint32_t agent_port = 1024;

} // namespace husk::protocol
