// The seccomp allow-list of each thread kind (docs/security.md). Everything not listed
// kills the whole process. Lists are built per call because some arguments are only known at
// run time (our pid, the kick signal number).
#pragma once

#include "runtime/jail/syscall_rule.hpp"
#include "runtime/jail/thread_kind.hpp"

#include <span>
#include <vector>

namespace husk {

std::vector<SyscallRule> allow_list_for(ThreadKind kind);

// The run-time values the main thread's list names: tgkill may signal only this process, only
// with the vCPU kick signal. Everything else in every list is a compile-time constant, which is
// what lets the lists be compiled to BPF at build time (precompiled_seccomp.hpp).
struct MainThreadValues {
    uint32_t pid { 0 };
    uint32_t kick_signal { 0 };
};
MainThreadValues current_main_thread_values(); // getpid(), SIGRTMIN
std::vector<SyscallRule> main_thread_allow_list(MainThreadValues values);

// Whether any of the VM's shares stores the guest's owners (runtime/share: ShareOwnership::Guest).
enum class FileSharingOwners { ServerUser, Guest };
// The event thread's extra rules for a VM with shares (share_allow_list.cpp): opening pinned to
// the share roots and the /proc/self/fd directories given; chown only with guest-owned shares.
std::vector<SyscallRule> file_sharing_rules(std::span<int const> share_roots, std::span<int const> proc_fd_directories,
    FileSharingOwners owners = FileSharingOwners::ServerUser);
// What those rules name, for a VM's shares: each share's root and /proc/self/fd descriptors
// (share i's are share_roots[i] and proc_fd_directories[i]). No shares: no file-sharing rules.
struct FileSharingDescriptors {
    std::vector<int> share_roots;
    std::vector<int> proc_fd_directories;
    FileSharingOwners owners { FileSharingOwners::ServerUser };
};
// Distinct syscalls the file-sharing rules may add to the event thread's budget.
inline constexpr size_t file_sharing_syscall_budget = 18;

// Rules shared by every kind, appended by each list (counted in each kind's budget).
void append_memory_rules(std::vector<SyscallRule>& rules);

// Budgets from issue #5: the number of distinct syscalls each kind may allow.
inline constexpr size_t event_thread_syscall_budget = 40;
inline constexpr size_t vcpu_thread_syscall_budget = 20;

} // namespace husk
