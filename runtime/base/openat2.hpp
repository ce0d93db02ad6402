// openat2_retrying: openat2(2) that tries again while the kernel answers EAGAIN, which
// RESOLVE_IN_ROOT and RESOLVE_BENEATH do when a rename elsewhere raced the lookup (the kernel
// cannot then prove the path stayed beneath the root, so it asks the caller to retry).
#pragma once

#include <linux/openat2.h>

namespace husk {

// The new descriptor, or -errno.
int openat2_retrying(int directory, char const* path, open_how const& how);

} // namespace husk
