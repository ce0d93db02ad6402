// Where husk-vmm, the guest kernel and the initramfs are. Explicit options win; then the HUSK_VMM
// and HUSK_ASSETS_DIR environment variables; then, for code running from an installation (libhusk
// in <prefix>/<libdir>, husk in <prefix>/<bindir>), that installation: <prefix>/<bindir>/husk-vmm
// and <prefix>/lib/husk/; otherwise (tests, examples, bench in the build tree) the build tree,
// then the configured install prefix. PATH is the last place looked for husk-vmm.
#pragma once

#include "husk/options.hpp"
#include "runtime/base/result.hpp"

#include <optional>
#include <string>
#include <vector>

namespace husk::detail {

inline constexpr char const* kernel_file_name = "vmlinux";
inline constexpr char const* initrd_file_name = "initramfs.cpio";
inline constexpr char const* vmm_file_name = "husk-vmm";
inline constexpr char const* rootfs_suffix = ".ext4";

struct Assets {
    std::string vmm;
    std::string kernel;
    std::string initrd;
    std::optional<std::string> rootfs; // SandboxOptions::rootfs_path resolved
};

// Errors are BadConfig and list every place looked at.
Result<Assets> resolve_assets(SandboxOptions const& options);

// One place looked at, and why it is on the list ("HUSK_ASSETS_DIR", "installed", "build tree",
// "PATH"), for `husk doctor`.
struct Candidate {
    std::string path;
    std::string origin;
};

// Everything the lookup depends on, so the order is a pure function (unit-tested).
struct SearchInputs {
    std::string self_path; // the file this code runs from: libhusk.so.1 or the executable
    std::string env_assets_dir; // HUSK_ASSETS_DIR
    std::string env_vmm; // HUSK_VMM
    std::string env_path; // PATH
    std::string build_assets_dir; // empty when not built in a tree
    std::string build_vmm;
    std::string install_prefix; // CMAKE_INSTALL_PREFIX at configure time
    std::string install_bindir; // relative to the prefix, or absolute
    std::string install_libdir;
    std::string install_assets_dir; // "lib/husk"
};

struct SearchPlan {
    std::optional<std::string> installed_prefix; // set when self_path is in an installation
    std::vector<Candidate> asset_directories;
    std::vector<Candidate> vmm_paths;
};

SearchPlan plan_search(SearchInputs const& inputs);
// This process's inputs: the environment, where this code was loaded from, the build's paths.
SearchInputs current_search_inputs();
// The prefix of the installation `self_path` lies in (/usr for /usr/bin/husk or
// /usr/lib/x86_64-linux-gnu/libhusk.so.1), if it lies in one.
std::optional<std::string> installed_prefix(std::string const& self_path, std::string const& install_prefix,
    std::string const& bindir, std::string const& libdir);

// The directories searched for the kernel and initramfs, in order.
std::vector<std::string> asset_directories();
// The husk-vmm paths tried, in order, PATH entries included.
std::vector<std::string> vmm_candidates();

} // namespace husk::detail
