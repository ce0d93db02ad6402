// Signals as `kill ID SIGNAL` gives them: a number ("9"), a name ("KILL", "SIGKILL", any case) or
// a real-time one ("RTMIN+3"), as runc accepts.
#pragma once

#include "runtime/base/result.hpp"

#include <string_view>

namespace husk::oci {

Result<int> parse_signal(std::string_view text);

} // namespace husk::oci
