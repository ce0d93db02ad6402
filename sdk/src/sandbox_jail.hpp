// SandboxJail: what libhusk provides so husk-vmm can jail one VM (runtime/main/jailed_launch.hpp
// does the jailing itself): a uid/gid of its own (jail_ids.hpp), the jail parent directory
// /run/husk/jail, and the VM's jail id "husk-<uid>", which names its root directory and cgroup.
//
// The launcher removes the VM's root directory and cgroup when the VMM ends. clean_up() makes
// sure of it after the launcher has exited — also when the launcher itself was killed with -9
// and could not — and is also run right after allocation, for what a host process that crashed
// while holding the same id left behind (the id lock proves no live VM still uses those names).
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"
#include "sdk/src/jail_ids.hpp"

#include <string>
#include <vector>

namespace husk::detail {

struct JailLayout {
    std::string state_base { "/run" }; // trusted; husk's directories are created below it
    std::string ids_directory { "husk/ids" }; // relative to state_base
    std::string jail_directory { "husk/jail" }; // relative to state_base
    std::string cgroup_root { "/sys/fs/cgroup" }; // as husk-vmm's defaults (jailed_launch.hpp)
    std::string cgroup_parent { "husk" };
    JailIdRange ids { jail_id_range };
};

// husk-vmm's jail arguments for a VM: --jail DIR --jail-id ID --jail-uid N --jail-gid N.
std::vector<std::string> jail_vmm_arguments(std::string const& directory, std::string const& id, uint32_t uid);

class SandboxJail {
public:
    static Result<SandboxJail> create(JailLayout layout = {});
    SandboxJail(SandboxJail&&) = default;
    SandboxJail& operator=(SandboxJail&&) = default;
    // Cleans up (as clean_up()) and then releases the id.
    ~SandboxJail();

    uint32_t uid() const { return m_lease.id(); }
    std::string const& id() const { return m_id; }
    std::string const& directory() const { return m_directory; }
    std::vector<std::string> vmm_arguments() const { return jail_vmm_arguments(m_directory, m_id, uid()); }

    // Removes the VM's jail root directory and cgroup, killing anything left in the cgroup.
    // Call once the launcher has exited. Idempotent; succeeds when nothing is left.
    Result<void> clean_up();

private:
    SandboxJail(JailLayout layout, JailIdLease lease, std::string directory, std::string id)
        : m_layout(std::move(layout))
        , m_lease(std::move(lease))
        , m_directory(std::move(directory))
        , m_id(std::move(id))
    {
    }

    JailLayout m_layout;
    JailIdLease m_lease;
    std::string m_directory;
    std::string m_id;
};

} // namespace husk::detail
