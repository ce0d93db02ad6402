// detect_cgroup_version: which cgroup hierarchy a root holds. Apart from cgroup.cpp so the
// cleanup side (husk_jail_cleanup, also linked by libhusk) needs nothing else of the jail.
#include "runtime/jail/cgroup.hpp"

#include <linux/magic.h>
#include <sys/vfs.h>

namespace husk {

Result<CgroupVersion> detect_cgroup_version(std::string const& root)
{
    struct statfs info { };
    if (::statfs(root.c_str(), &info) != 0)
        return fail_errno("statfs of the cgroup root \"" + root + "\"");
    if (info.f_type == CGROUP2_SUPER_MAGIC)
        return CgroupVersion::V2;
    struct statfs memory { };
    if (::statfs((root + "/memory").c_str(), &memory) == 0 && memory.f_type == CGROUP_SUPER_MAGIC)
        return CgroupVersion::V1;
    return fail("\"" + root + "\" is neither a cgroup2 mount nor holds a cgroup v1 memory hierarchy");
}

} // namespace husk
