// Switching PID 1 from the initramfs to a disk root. `husk.root=/dev/vdX` on the kernel command
// line names the disk; husk-init mounts it read-only, puts an overlayfs over it with a tmpfs upper
// layer (so many sandboxes can share one base image file while each writes only to its own RAM),
// moves /proc, /sys, /dev, /tmp and /run into the merged tree and makes it the root (MS_MOVE and
// chroot: the initramfs is rootfs, which pivot_root cannot leave). husk-init itself keeps running
// from the initramfs, so the disk needs no husk binary.
#pragma once

#include "guest-init/kernel_cmdline.hpp"
#include "runtime/base/result.hpp"

#include <optional>
#include <string>

namespace husk::init {

inline constexpr std::string_view root_parameter = "husk.root";
inline constexpr std::string_view root_fstype_parameter = "husk.rootfstype";

struct RootConfig {
    std::string device; // e.g. /dev/vda
    std::string filesystem { "ext4" };
};

// nullopt when the command line names no root (stay on the initramfs); an error for a device that
// is not a plain /dev/<name> or a filesystem husk does not mount.
Result<std::optional<RootConfig>> root_config(KernelCmdline const& cmdline);

// Mounts and enters the disk root; call after the boot mounts exist. A failure part-way leaves
// the guest between the two roots: the caller treats it as a broken boot and runs no job.
Result<void> switch_to_disk_root(RootConfig const& config);

} // namespace husk::init
