// The monitor's own mount namespace, whose root is the container's rootfs. podman (libpod's
// joinMountAndExec) copies into and out of a *running* container by joining the mount namespace
// of the pid file's process (/proc/PID/ns/mnt) and working at "/" there: with runc that is the
// container's init, pivoted into the rootfs. For husk-oci it is the monitor, which needs the
// host's files itself; so the monitor gets a private mount namespace and, once the VM is up,
// the rootfs is bind-mounted on top of "/" there, with the container's volumes at their
// destinations. A process joining the namespace (setns looks up "/" following mounts) sees the
// container's files; the monitor itself keeps the host's root it already holds (a mount on top
// of "/" does not move an existing root). Without this, that copy would work on the host's own
// root.
#pragma once

#include "husk/options.hpp"
#include "runtime/base/result.hpp"

#include <string>
#include <vector>

namespace husk::oci {

/// unshare(CLONE_NEWNS) with every mount made private: while the monitor is single-threaded,
/// before the VM starts (the VMM's jail copies this namespace and must not see what follows).
Result<void> enter_private_mount_namespace();

/// Binds the monitor's /proc and each volume (a share of `volumes`) at their places inside
/// `rootfs` (resolved in it: symlinks cannot lead out), volumes read-only where the share is,
/// then `rootfs` on top of "/". A place that does not exist in the rootfs (the guest makes
/// /proc and the volumes' mount points when it boots) is reported in the returned notes and
/// skipped.
Result<std::vector<std::string>> show_rootfs_at_namespace_root(std::string const& rootfs, std::vector<Mount> const& volumes);

} // namespace husk::oci
