// enter_namespaces and enter_pid_namespace.
#include "runtime/jail/namespaces.hpp"

#include "runtime/base/fd.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>

namespace husk {

namespace {
    Result<void> join_network_namespace(std::string const& path)
    {
        auto namespace_fd = TRY_CONTEXT(Fd::open(path, O_RDONLY | O_CLOEXEC), "network namespace");
        // /proc/PID/ns/net is a magic link, so the path cannot be opened with O_NOFOLLOW; what
        // was opened is checked instead.
        int type = ::ioctl(namespace_fd.get(), NS_GET_NSTYPE);
        if (type != CLONE_NEWNET)
            return fail("\"" + path + "\" is not a network namespace");
        if (::setns(namespace_fd.get(), CLONE_NEWNET) != 0)
            return fail_errno("setns into the network namespace \"" + path + "\"");
        return {};
    }
} // namespace

Result<void> enter_namespaces(NamespaceRequest const& request)
{
    int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
    if (!request.network_namespace)
        flags |= CLONE_NEWNET;
    if (::unshare(flags) != 0)
        return fail_errno("unshare(mount, ipc, uts" + std::string(request.network_namespace ? "" : ", net") + ")");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        return fail_errno("making the jail's mounts private");
    if (request.network_namespace)
        TRY(join_network_namespace(*request.network_namespace));
    return {};
}

Result<void> enter_pid_namespace()
{
    if (::unshare(CLONE_NEWPID) != 0)
        return fail_errno("unshare(pid)");
    return {};
}

} // namespace husk
