// Until husk shares host directories with the guest, the bundle's rootfs directory reaches the
// guest as an ext4 image built from it at `create` (mke2fs -d, e2fsprogs). The guest mounts it
// read-only under a RAM overlay (guest-init/root_switch.cpp), so the container's writes are not
// seen on the host. Documented as temporary in docs/oci.md.
#pragma once

#include "runtime/base/result.hpp"

#include <string>

namespace husk::oci {

struct RootfsSize {
    uint64_t bytes { 0 }; ///< image size to create
    uint64_t inodes { 0 };
};

/// Walks the tree (without following symlinks) and sizes an image with room for its files.
Result<RootfsSize> measure_rootfs(std::string const& directory);

/// Builds `image` (a new file) from `directory` with mkfs.ext4 found in PATH or /sbin.
Result<void> build_rootfs_image(std::string const& directory, std::string const& image);

} // namespace husk::oci
