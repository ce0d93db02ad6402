// The parts of an OCI bundle's config.json (runtime-spec 1.x) that husk-oci honours, parsed
// strictly into plain structs: a field of the wrong type, a missing required field or a value out
// of range is an error naming the field, never a default in disguise. Fields husk-oci does not
// act on are listed in docs/oci.md; the ones that would make a container behave differently from
// what its author asked for (see unsupported_fields()) are refused by `create`.
#pragma once

#include "runtime/base/result.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace husk::oci {

struct OciUser {
    uint32_t uid { 0 };
    uint32_t gid { 0 };
    std::vector<uint32_t> additional_gids;
};

/// process: what `start` (from config.json) or `exec --process` runs.
struct OciProcess {
    std::vector<std::string> args; ///< at least one entry
    std::vector<std::string> env; ///< "NAME=value"
    std::string cwd { "/" }; ///< absolute
    OciUser user;
    bool terminal { false };
    bool no_new_privileges { false };
};

/// One entry of `mounts`, as written (container_mounts.hpp decides what husk-oci does with it).
struct OciMount {
    std::string destination; ///< absolute
    std::string type; ///< "" when absent
    std::string source; ///< "" when absent
    std::vector<std::string> options;
};

struct OciConfig {
    std::string oci_version;
    OciProcess process;
    std::string root_path; ///< as written: relative to the bundle or absolute
    bool root_readonly { false };
    std::string hostname;
    std::map<std::string, std::string> annotations;
    /// linux.resources.memory.limit in bytes, when set and positive.
    std::optional<uint64_t> memory_limit;
    /// linux.resources.cpu quota and period (microseconds), when both are set and positive.
    std::optional<int64_t> cpu_quota;
    std::optional<uint64_t> cpu_period;
    std::string cgroups_path; ///< linux.cgroupsPath
    std::vector<OciMount> mounts;
    /// linux.namespaces: the path of the `network` entry, when it names one (the engine's
    /// namespace the container's NIC lives in, container_network.hpp); the other types, and a
    /// network entry without a path (a new, empty namespace), change nothing for a VM.
    std::optional<std::string> network_namespace;
    /// Fields present that husk-oci cannot honour and that would change what the container does
    /// (e.g. hooks), as dotted paths: `create` refuses the bundle naming them.
    std::vector<std::string> unsupported_fields;
};

/// Largest config.json or process.json accepted (runc has no limit; ours bounds memory use).
inline constexpr size_t max_config_bytes = 4u << 20;

Result<OciConfig> parse_oci_config(std::string_view json_text);
/// The `process` object alone, as `exec --process FILE` passes it.
Result<OciProcess> parse_oci_process(std::string_view json_text);

/// Reads and parses <bundle>/config.json.
Result<OciConfig> load_bundle_config(std::string const& bundle);
/// The rootfs directory: root_path resolved against the bundle.
std::string rootfs_directory(std::string const& bundle, OciConfig const& config);

/// A whole file, up to max_config_bytes.
Result<std::string> read_small_file(std::string const& path);

} // namespace husk::oci
