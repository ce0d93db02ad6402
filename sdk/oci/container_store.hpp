// The state root (`--root`, default /run/husk-oci): one directory per container, 0700, named by
// its validated id, holding state.json (replaced atomically: written to a temporary file, fsynced
// and renamed), the start fifo, the monitor's control socket and the rootfs image.
#pragma once

#include "sdk/oci/container_state.hpp"

#include "runtime/base/result.hpp"

#include <optional>
#include <string>
#include <vector>

namespace husk::oci {

inline constexpr char const* default_state_root = "/run/husk-oci";

/// Field 22 of /proc/<pid>/stat (start time in clock ticks); nullopt when no such process.
std::optional<uint64_t> process_start_time(pid_t pid);

class ContainerStore {
public:
    explicit ContainerStore(std::string root);

    std::string const& root() const { return m_root; }
    /// <root>/<id>; the id must be valid (validate_container_id) before this is called.
    std::string directory(std::string const& id) const;

    /// Creates <root> if needed and <root>/<id>; fails if the container already exists.
    Result<std::string> create_directory(std::string const& id);
    /// state.json, replaced atomically.
    Result<void> write(ContainerRecord const& record);
    /// state.json of an existing container; "container <id> does not exist" otherwise.
    Result<ContainerRecord> read(std::string const& id) const;
    /// The status now: Stopped when the monitor is gone (or its pid was recycled).
    static ContainerStatus live_status(ContainerRecord const& record);
    /// Removes <root>/<id> and everything in it.
    Result<void> remove(std::string const& id);
    /// Ids of every container directory under the root.
    std::vector<std::string> list() const;

private:
    std::string m_root;
};

/// Writes `content` to `path` atomically (temporary file in the same directory, fsync, rename).
Result<void> write_file_atomically(std::string const& path, std::string const& content, mode_t mode = 0600);

} // namespace husk::oci
