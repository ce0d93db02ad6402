// The capabilities a jailed VMM keeps to serve guest-owned shares (runtime/share:
// ShareOwnership::Guest: files get the guest's owners, guest root may change any file in the
// share), and nothing else. Capabilities are per thread and the uid drop clears them, so:
//   1. as root, before drop_identity: the bounding set shrinks to these four and PR_SET_KEEPCAPS
//      keeps the permitted set across the uid change (keep_share_capabilities_across_drop);
//   2. after drop_identity: permitted and effective become exactly these four, inheritable and
//      ambient stay empty, keep-caps goes off (raise_share_capabilities);
//   3. the event thread, which serves 9P, inherits them when it is created; the main thread then
//      gives them up (drop_thread_capabilities) before it creates the vCPU threads.
// Why each one (docs/security.md): CAP_CHOWN to give new files the guest's uid/gid and apply its
// chown; CAP_DAC_OVERRIDE to read and write files of any owner and mode, as guest root does;
// CAP_FOWNER to chmod and set times on files the VMM's uid does not own, and to unlink in sticky
// directories; CAP_FSETID to set set-ID bits on files of other owners and groups (the guest's
// chmod) without the kernel dropping them. No CAP_SYS_ADMIN, CAP_SETUID or CAP_DAC_READ_SEARCH.
#pragma once

#include "runtime/base/result.hpp"

#include <cstdint>

namespace husk {

// CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID as a mask of capability bits.
uint64_t share_capability_mask();

Result<void> keep_share_capabilities_across_drop();
Result<void> raise_share_capabilities();
// This thread only: every capability set emptied.
Result<void> drop_thread_capabilities();

struct ThreadCapabilities {
    uint64_t effective { 0 };
    uint64_t permitted { 0 };
    uint64_t inheritable { 0 };
};
// This thread's sets (capget).
Result<ThreadCapabilities> thread_capabilities();

} // namespace husk
