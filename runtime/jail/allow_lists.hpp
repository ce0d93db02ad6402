// The seccomp allow-list of each thread kind (docs/security.md). Everything not listed
// kills the whole process. Lists are built per call because some arguments are only known at
// run time (our pid, the kick signal number).
#pragma once

#include "runtime/jail/syscall_rule.hpp"
#include "runtime/jail/thread_kind.hpp"

#include <vector>

namespace husk {

std::vector<SyscallRule> allow_list_for(ThreadKind kind);

// Rules shared by every kind, appended by each list (counted in each kind's budget).
void append_memory_rules(std::vector<SyscallRule>& rules);

// Budgets from issue #5: the number of distinct syscalls each kind may allow.
inline constexpr size_t event_thread_syscall_budget = 40;
inline constexpr size_t vcpu_thread_syscall_budget = 20;

} // namespace husk
