// Resource limits the jailed VMM runs under (issue #5: nofile, fsize, nproc). Applied as both
// soft and hard limit, so the VMM cannot raise them again.
#pragma once

#include "runtime/base/result.hpp"

#include <cstdint>

namespace husk {

struct ResourceLimits {
    // Descriptors: KVM, VM, vCPUs, eventfds, the ring and its fixed files, vsock streams.
    uint64_t open_files { 2048 };
    // Largest file the VMM may write (serial log, stop report). Guest disks are written through
    // descriptors opened before the jail, and RLIMIT_FSIZE applies to them too: size it for them.
    uint64_t file_size_bytes { 1ull << 40 };
    // RLIMIT_NPROC counts every thread of the VMM's real uid, io_uring workers included: with a
    // uid per VM it bounds the VMM's threads.
    uint64_t processes { 128 };
};

// Fails naming the limit the kernel refused (raising a hard limit needs CAP_SYS_RESOURCE).
Result<void> apply_resource_limits(ResourceLimits const& limits);

} // namespace husk
