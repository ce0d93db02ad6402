// What husk-oci does with config.json's `mounts`, decided up front so nothing is silently wrong:
//   - bind mounts of host directories become shares (SandboxOptions::mounts, virtio-9p), read-only
//     when the options say "ro";
//   - the kernel interfaces at their usual places (proc on /proc, sysfs on /sys, tmpfs on /dev,
//     devpts on /dev/pts, tmpfs or a bind on /dev/shm, tmpfs on /tmp and /run) are the guest's
//     own, which husk-init mounts in every VM;
//   - mqueue on /dev/mqueue, cgroup on /sys/fs/cgroup and the engine's bind mounts of single
//     files onto /etc/hosts, /etc/hostname, /etc/resolv.conf and /run/.containerenv are not
//     applied, and each is named in a warning (docs/oci.md says why);
//   - anything else (a bind mount of any other file, tmpfs elsewhere, other types, more than 7
//     directories (the rootfs is the eighth share), a destination husk cannot mount on) is refused, naming the mount.
#pragma once

#include "sdk/oci/oci_config.hpp"

#include "husk/options.hpp"
#include "husk/result.hpp"

#include <functional>
#include <string>
#include <vector>

namespace husk::oci {

enum class HostFileKind { Missing, Directory, File, Other };

struct ContainerMounts {
    std::vector<Mount> shares;
    std::vector<std::string> not_applied; ///< one warning per mount left out on purpose
};

/// `kind_of` says what a host path is (following symlinks, as a bind mount does).
Result<ContainerMounts> plan_container_mounts(
    std::vector<OciMount> const& mounts, std::function<HostFileKind(std::string const&)> const& kind_of);

/// stat(2) of the host path.
HostFileKind host_file_kind(std::string const& path);

} // namespace husk::oci
