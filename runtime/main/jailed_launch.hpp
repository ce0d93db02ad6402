// Running husk-vmm jailed (issue #5). husk-vmm, started as root, becomes a small launcher:
//   launcher: creates the VM's cgroup, enters a new PID namespace and forks the VMM as its PID 1,
//             moves it into the cgroup, forwards SIGINT/SIGTERM, waits, and then removes the jail
//             directory and the cgroup — also when the VMM was killed (kill -9 included).
//   VMM:      dies with the launcher (PR_SET_PDEATHSIG), closes inherited descriptors, enters new
//             mount, IPC, UTS and network namespaces, creates its root <dir>/<id>, builds the
//             machine while host paths are still visible (KVM, guest memory, kernel, initrd and
//             console are descriptors from then on), then pivots into the root, sets rlimits,
//             clears its environment and drops to the jail uid/gid before any guest code runs.
// A KVM VM belongs to the process that created it, which is why the fork comes first.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/jail/cgroup.hpp"
#include "runtime/jail/identity.hpp"
#include "runtime/jail/jail_root.hpp"
#include "runtime/jail/resource_limits.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace husk {

struct JailSettings {
    std::string directory; // parent of the per-VM roots; must exist
    std::string id; // the VM's name: its root directory and cgroup
    JailIdentity identity;
    CgroupLimits cgroup_limits;
    std::string cgroup_root { "/sys/fs/cgroup" };
    std::string cgroup_parent { "husk" };
    ResourceLimits resource_limits;
    std::vector<int> keep_fds; // besides stdin, stdout, stderr (e.g. the report file)
    // Networking on: the VMM joins this network namespace (/run/netns/NAME) instead of a new,
    // empty one, and `remove_network` runs with the jail's cleanup when the VMM has ended
    // (before the launcher dies of the VMM's signal, if it does). It must not fork: the PID
    // namespace the VMM was init of accepts no new process any more.
    std::optional<std::string> network_namespace;
    std::function<void()> remove_network;
    // Shared directories: bind-mounted in the root (at "shares/TAG") before the VMM builds the
    // machine, with the jail's own procfs at "proc", so that the VMM reopens them from inside its
    // root once pivoted (ShareRoot::reopen_in_jail) and ".." cannot lead out of it.
    std::vector<JailMount> share_mounts;
    // Guest-owned shares: the VMM keeps CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER and CAP_FSETID
    // across the uid drop (runtime/jail/capabilities.hpp), for its event thread.
    enum class Capabilities { None, GuestOwnedShares };
    Capabilities capabilities { Capabilities::None };
};

// Where a share bind-mounted for the jail appears, relative to the jail root and, once pivoted,
// absolute; and the jail's procfs.
std::string jail_share_path(std::string const& tag);
inline constexpr char const* jail_proc_path = "proc";

// What the jailed VMM process runs: build the machine, call enter_jail() once before the guest
// runs (a failure must stop it), run, report; returns husk-vmm's exit status.
using JailedVmm = std::function<int(std::function<Result<void>()> const& enter_jail)>;

// Returns the exit status husk-vmm should exit with. When the VMM was killed by a signal, the
// launcher dies of the same signal after cleaning up, so callers see what happened.
int run_jailed(JailSettings const& settings, JailedVmm const& vmm);

} // namespace husk
