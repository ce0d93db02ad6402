// How a container's config maps onto its VM and its job: the bundle's rootfs directory as the
// guest's root (virtio-9p, written in place with the container's own owners, as runc does; with
// root.readonly under the guest's private overlay: see docs/oci.md); VM size from linux.resources (memory
// limit → guest RAM, at least 128 MiB; cpu quota/period → vCPUs, rounded up) or from the
// annotations io.husk.vcpus / io.husk.memory, which win; the bind mounts of host directories as
// shares (container_mounts.hpp); the process's env, cwd and uid/gid.
#pragma once

#include "sdk/oci/container_mounts.hpp"
#include "sdk/oci/oci_config.hpp"

#include "husk/options.hpp"

namespace husk::oci {

inline constexpr uint64_t min_container_memory = 128ull << 20;
inline constexpr char const* vcpus_annotation = "io.husk.vcpus";
inline constexpr char const* memory_annotation = "io.husk.memory";
inline constexpr char const* boot_timeout_annotation = "io.husk.boot-timeout";

/// SandboxOptions for the container's VM, booting the bundle's `rootfs` directory as its root;
/// `kind_of` tells what the bind mounts' sources are.
Result<SandboxOptions> sandbox_options_for(OciConfig const& config, std::string const& rootfs,
    std::function<HostFileKind(std::string const&)> const& kind_of = host_file_kind);

/// The job options of a container process (the main one or an exec).
StartOptions start_options_for(OciProcess const& process);

} // namespace husk::oci
