// The guest's filesystem mounts: a fixed table (pure data, checked by unit tests) and the code
// that creates each mount point and mounts it.
#pragma once

#include "runtime/base/result.hpp"

#include <span>
#include <sys/types.h>

namespace husk::init {

// Whether boot can go on without a mount. Only devpts is optional: the kernel may lack it and a
// batch job does not need ptys; everything else the job's environment relies on.
enum class MountNeed { Required, Optional };

struct MountSpec {
    char const* source;
    char const* target;
    char const* filesystem;
    unsigned long flags; // MS_* flags
    char const* data; // filesystem options, nullptr for none
    mode_t target_mode; // mode for the mount point when husk-init has to create it
    MountNeed need;
};

// /proc alone: mounted first so the boot marker goes out as early as possible after it.
MountSpec const& proc_mount();
// The rest, in order: a mount point inside another mount comes after it.
std::span<MountSpec const> boot_mounts();

// Creates the mount point if it is missing and mounts. A target that is already a mount point
// (EBUSY, e.g. devtmpfs mounted by the kernel on a disk root) counts as success.
Result<void> mount_filesystem(MountSpec const& spec);

} // namespace husk::init
