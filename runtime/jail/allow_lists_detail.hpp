// The per-kind list builders behind allow_list_for(); one source file each.
#pragma once

#include "runtime/jail/syscall_rule.hpp"

#include <vector>

namespace husk {

std::vector<SyscallRule> event_thread_allow_list();
std::vector<SyscallRule> vcpu_thread_allow_list();

} // namespace husk
