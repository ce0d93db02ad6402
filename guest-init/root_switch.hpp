// Switching PID 1 from the initramfs to another root. `husk.root=` on the kernel command line names
// it:
//   husk.root=/dev/vdX      an ext4 disk (husk.rootfstype=ext4, the default and only choice)
//   husk.root=9p:TAG        a host directory husk-vmm serves over virtio-9p under TAG (--rootfs)
//   husk.root=9p:TAG:rw     the same, written in place: the guest's writes reach the host directory
// A disk and a plain 9p root are mounted read-only with an overlayfs over them whose upper layer is
// a tmpfs (so many sandboxes can share one base image or directory while each writes only to its
// own RAM); a 9p root with :rw is mounted writable and used as it is. husk-init then moves /proc,
// /sys, /dev, /tmp and /run into the new tree and makes it the root (MS_MOVE and chroot: the
// initramfs is rootfs, which pivot_root cannot leave). husk-init itself keeps running from the
// initramfs, so the root needs no husk binary.
#pragma once

#include "guest-init/kernel_cmdline.hpp"
#include "runtime/base/result.hpp"

#include <optional>
#include <string>

namespace husk::init {

inline constexpr std::string_view root_parameter = "husk.root";
inline constexpr std::string_view root_fstype_parameter = "husk.rootfstype";
inline constexpr std::string_view share_root_prefix = "9p:";

enum class RootKind { Disk, Share };
// Where the guest's writes to its root go.
enum class RootWrites { PrivateOverlay, InPlace };

struct RootConfig {
    RootKind kind { RootKind::Disk };
    std::string device; // Disk: e.g. /dev/vda
    std::string filesystem { "ext4" }; // Disk: ext4; Share: 9p
    std::string share_tag; // Share: the virtio-9p tag
    RootWrites writes { RootWrites::PrivateOverlay };

    // "disk root /dev/vda", "shared root rootfs" for messages.
    std::string describe() const;
};

// nullopt when the command line names no root (stay on the initramfs); an error (one line naming
// the value and the expected forms) for anything but the forms above, or a husk.rootfstype other
// than ext4 (or given with a 9p root).
Result<std::optional<RootConfig>> root_config(KernelCmdline const& cmdline);

// Mounts and enters the root; call after the boot mounts exist. A failure part-way leaves the guest
// between the two roots: the caller treats it as a broken boot and runs no job.
Result<void> switch_root(RootConfig const& config);

} // namespace husk::init
