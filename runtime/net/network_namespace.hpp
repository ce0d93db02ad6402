// Named network namespaces (/run/netns/NAME, as iproute2 keeps them) and running code inside
// one from the launcher itself: deleting and entering need no fork, so they also work after the
// jailed VMM (PID 1 of the launcher's PID namespace) has ended.
#pragma once

#include "runtime/base/result.hpp"

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace husk {

inline constexpr char const* named_netns_directory = "/run/netns";

std::string named_netns_path(std::string const& name);

// `ip netns add NAME` (set-up only: it forks).
Result<void> create_named_network_namespace(std::string const& ip_tool, std::string const& name);

// Unmounts and removes /run/netns/NAME; absent is fine. The namespace itself goes away once no
// process and no descriptor holds it any more.
Result<void> delete_named_network_namespace(std::string const& name);

bool named_network_namespace_exists(std::string const& name);

// Runs `work` with this thread in the namespace at `path`, then returns to the namespace it
// was in (also when `work` fails). The launcher is single-threaded when it calls this.
Result<void> in_network_namespace(std::string const& path, std::function<Result<void>()> const& work);

// Every process whose network namespace is the one at `path` (scanning /proc).
std::vector<pid_t> processes_in_network_namespace(std::string const& path);

// Writes a sysctl of the current network namespace (/proc/sys/net/... follows the writer's).
Result<void> write_sysctl(std::string const& path, std::string const& value);

} // namespace husk
