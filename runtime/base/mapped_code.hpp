// Dropping the page-table entries of the code a process ran once and may never run again.
//
// husk-vmm's setup (options, kernel loading, seccomp, jail) runs code the running VM never
// needs, and every page fault on a file-backed mapping maps up to 16 neighbouring pages of the
// page cache too (the kernel's fault-around), so after setup most of husk-vmm's and libc's text
// counted in its resident set although the VM uses a fraction of it. The pages themselves are
// shared page cache, not the process's; what a fresh fault maps back is what the VM uses.
#pragma once

#include <cstddef>

namespace husk {

struct MappedCodeRelease {
    size_t bytes { 0 }; // of the ranges advised
    size_t ranges { 0 };
    size_t refused { 0 }; // ranges madvise refused (left as they were)
};

// MADV_DONTNEED over every read-only, file-backed segment (PT_LOAD without PF_W: text, rodata,
// exception tables) of every loaded object, the vDSO excepted. Never touches a writable or
// RELRO segment: those hold relocated, private copies that the file does not. Safe at any time
// and from any thread: a page still in use faults back in from the page cache.
MappedCodeRelease release_mapped_code();

} // namespace husk
