// The IPv4 addresses of the host's network namespace (getifaddrs): a sandbox may never reach
// them, whatever its policy allows.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/net/ipv4.hpp"

#include <vector>

namespace husk {

Result<std::vector<Ipv4Address>> host_ipv4_addresses();

} // namespace husk
