// Deleting a network interface by name over rtnetlink, in-process (teardown cannot fork).
// Deleting one end of a veth pair deletes the other one too.
#pragma once

#include "runtime/base/result.hpp"

#include <string>

namespace husk {

// Absent is fine (already gone).
Result<void> delete_network_link(std::string const& name);

bool network_link_exists(std::string const& name);

} // namespace husk
