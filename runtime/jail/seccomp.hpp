// install_seccomp: what each husk-vmm thread calls on itself once its setup is done, right
// before it runs guest code (vCPU), the first event (event thread) or the supervisor loop (main).
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/jail/allow_lists.hpp"
#include "runtime/jail/thread_kind.hpp"


namespace husk {

// Sets no_new_privs and loads the allow-list of `kind` on the calling thread only, from the
// program compiled at build time (precompiled_seccomp.hpp). From then on any syscall outside the
// list kills the whole process with SIGSYS. With `shares` (the event thread of a VM with shares)
// the list also has file_sharing_rules for those descriptors, from the program compiled for that
// many shares; more than max_precompiled_shares, or shares on another kind, fail.
Result<void> install_seccomp(ThreadKind kind, FileSharingDescriptors const& shares = {});

// Call first thing in main(), before any thread starts: keeps glibc's allocator inside every
// thread's allow-list. glibc gives threads heaps of their own ("arenas"), and the first time one
// of them shrinks it opens /proc/sys/vm/overcommit_memory; under a filter that open killed
// husk-vmm with SIGSYS a few seconds into heavy vsock traffic (the lab kernel's audit log
// showed openat on the event thread). With a single arena every thread allocates from the brk
// heap, which shrinks with brk and madvise alone.
void prepare_allocator_for_seccomp();

// TEST ONLY. When husk is built with HUSK_TEST_HOOKS and the environment variable
// HUSK_TEST_FORBIDDEN_SYSCALL named `kind` ("main", "event", "vcpu") when capture_test_hooks()
// ran, makes a syscall no list allows (socket(AF_INET)) so lab tests can prove that thread's
// filter kills the VMM. Without HUSK_TEST_HOOKS both do nothing. Call right after
// install_seccomp(); call capture_test_hooks() first thing in main() (the jail clears the
// environment).
void capture_test_hooks();
void forbidden_syscall_test_hook(ThreadKind kind);

// True when this build honours HUSK_TEST_FORBIDDEN_SYSCALL.
bool test_hooks_compiled_in();

} // namespace husk
