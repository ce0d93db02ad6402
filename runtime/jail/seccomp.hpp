// install_seccomp: what each husk-vmm thread calls on itself once its setup is done, right
// before it runs guest code (vCPU), the first event (event thread) or the supervisor loop (main).
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/jail/thread_kind.hpp"

namespace husk {

// Builds the allow-list of `kind`, sets no_new_privs and loads the filter on the calling thread
// only. From then on any syscall outside the list kills the whole process with SIGSYS.
Result<void> install_seccomp(ThreadKind kind);

// TEST ONLY. When husk is built with HUSK_TEST_HOOKS and the environment variable
// HUSK_TEST_FORBIDDEN_SYSCALL names `kind` ("main", "event", "vcpu"), makes a syscall no list
// allows (socket(AF_INET)) so lab tests can prove that thread's filter kills the VMM. Without
// HUSK_TEST_HOOKS it does nothing. Call right after install_seccomp().
void forbidden_syscall_test_hook(ThreadKind kind);

// True when this build honours HUSK_TEST_FORBIDDEN_SYSCALL.
bool test_hooks_compiled_in();

} // namespace husk
