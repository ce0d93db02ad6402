// decide_jail: the jail needs root (namespaces, cgroups, switching to a per-VM uid).
#include "sdk/src/jail_decision.hpp"

namespace husk::detail {

Result<JailDecision> decide_jail(JailMode mode, uid_t effective_uid)
{
    bool root = effective_uid == 0;
    switch (mode) {
    case JailMode::Off:
        return JailDecision { false, "the jail is turned off (JailMode::Off, husk run --no-jail): for debugging only" };
    case JailMode::Required:
        if (!root)
            return fail(ErrorKind::BadConfig,
                "the jail is required but this process is not root (uid " + std::to_string(effective_uid)
                    + "): husk-vmm needs root to create the VM's namespaces and cgroup and switch to its own uid");
        return JailDecision { true, "running as root" };
    case JailMode::Auto:
        if (!root)
            return JailDecision { false,
                "not running as root (uid " + std::to_string(effective_uid)
                    + "): the jail needs root, so VMs run unjailed with seccomp on" };
        return JailDecision { true, "running as root" };
    }
    return fail(ErrorKind::BadConfig, "unknown jail mode");
}

} // namespace husk::detail
