// drop_identity: setgroups, setresgid, setresuid, then proof that root is gone.
#include "runtime/jail/identity.hpp"

#include <grp.h>
#include <unistd.h>

namespace husk {

Result<void> drop_identity(JailIdentity identity)
{
    if (identity.uid == 0 || identity.gid == 0)
        return fail("the jail refuses to run the VMM as uid or gid 0");
    // Groups first: once the uid is dropped, setgroups is no longer permitted.
    if (::setgroups(0, nullptr) != 0)
        return fail_errno("setgroups([])");
    if (::setresgid(identity.gid, identity.gid, identity.gid) != 0)
        return fail_errno("setresgid(" + std::to_string(identity.gid) + ")");
    if (::setresuid(identity.uid, identity.uid, identity.uid) != 0)
        return fail_errno("setresuid(" + std::to_string(identity.uid) + ")");
    if (::setuid(0) == 0 || ::geteuid() == 0)
        return fail("the VMM could regain uid 0 after dropping to " + std::to_string(identity.uid));
    return {};
}

} // namespace husk
