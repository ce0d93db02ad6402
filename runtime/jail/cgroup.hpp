// VmCgroup: one cgroup per VM with memory, pids and CPU limits, on cgroup v2 or on v1 (one
// hierarchy per controller; these hosts are v1/v2 hybrids). The VMM's whole process goes in, so
// a guest that exhausts its memory only kills its own VMM.
//
// Layout: v2 <root>/<parent>/<vm-id>; v1 <root>/<controller>/<parent>/<vm-id> for memory, pids
// and cpu. <root> (normally /sys/fs/cgroup) and <parent> (e.g. "husk") are configuration; the
// VM id is validated; everything below <root> is created and opened without following symlinks.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace husk {

enum class CgroupVersion { V1, V2 };

struct CgroupLimits {
    uint64_t memory_bytes { 0 }; // guest RAM plus the VMM's own; swap is not allowed on top
    uint64_t max_tasks { 0 }; // processes and threads
    uint64_t cpu_millis { 0 }; // CPU time per second of wall time, in thousandths of a CPU
};

// V2 when <root> is a cgroup2 mount, V1 when it holds a v1 memory hierarchy, an error otherwise.
Result<CgroupVersion> detect_cgroup_version(std::string const& root);

class VmCgroup {
public:
    // Creates the cgroup(s) and writes the limits. The parent is created when missing (and on v2
    // given the memory, pids and cpu controllers). Fails if the VM's cgroup exists already.
    static Result<VmCgroup> create(
        std::string const& root, std::string const& parent, std::string const& vm_id, CgroupLimits const& limits);
    VmCgroup(VmCgroup&&) = default;
    VmCgroup& operator=(VmCgroup&&) = default;

    CgroupVersion version() const { return m_version; }
    // Moves a whole process (all its threads) in.
    Result<void> add_process(pid_t pid);
    // The directories of the cgroup, one for v2, one per controller for v1.
    std::vector<std::string> const& paths() const { return m_paths; }

private:
    VmCgroup(CgroupVersion version, std::vector<Fd> directories, std::vector<std::string> paths)
        : m_version(version)
        , m_directories(std::move(directories))
        , m_paths(std::move(paths))
    {
    }

    CgroupVersion m_version;
    std::vector<Fd> m_directories;
    std::vector<std::string> m_paths;
};

// Kills whatever is left in the VM's cgroup and removes it: what the launcher runs when the VMM
// has ended, also after kill -9. Succeeds when there is nothing to remove.
Result<void> remove_vm_cgroup(std::string const& root, std::string const& parent, std::string const& vm_id);

} // namespace husk
