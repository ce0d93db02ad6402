// Dropping root for the jailed VMM: a uid and gid of its own (one per VM, so two VMMs cannot
// signal, ptrace or read each other), no supplementary groups, and no way back.
#pragma once

#include "runtime/base/result.hpp"

#include <sys/types.h>

namespace husk {

struct JailIdentity {
    uid_t uid { 0 };
    gid_t gid { 0 };
};

// Refuses uid or gid 0. Clears supplementary groups, sets real, effective and saved gid then
// uid, and checks that uid 0 cannot be regained. Call before any thread starts: glibc must
// change every thread's credentials, and later threads inherit them.
Result<void> drop_identity(JailIdentity identity);

} // namespace husk
