// Where husk-vmm, the guest kernel and the initramfs are. Explicit options win; otherwise, in
// order: the HUSK_VMM / HUSK_ASSETS_DIR environment variables, the build tree this library was
// built in (so tests and examples run without installing), /usr/lib/husk/, and PATH for husk-vmm.
#pragma once

#include "husk/options.hpp"
#include "runtime/base/result.hpp"

#include <optional>
#include <string>
#include <vector>

namespace husk::detail {

inline constexpr char const* kernel_file_name = "vmlinux";
inline constexpr char const* initrd_file_name = "initramfs.cpio";
inline constexpr char const* installed_dir = "/usr/lib/husk";

inline constexpr char const* rootfs_suffix = ".ext4";

struct Assets {
    std::string vmm;
    std::string kernel;
    std::string initrd;
    std::optional<std::string> rootfs; // SandboxOptions::rootfs_path resolved
};

// Errors are BadConfig and list every place looked at.
Result<Assets> resolve_assets(SandboxOptions const& options);

// The directories searched for the kernel and initramfs, in order (for `husk doctor`).
std::vector<std::string> asset_directories();
// The husk-vmm paths tried, in order, PATH entries included.
std::vector<std::string> vmm_candidates();

} // namespace husk::detail
