// Named network namespaces: create through iproute2, delete, enter and list their processes.
#include "runtime/net/network_namespace.hpp"

#include "runtime/base/fd.hpp"
#include "runtime/net/host_command.hpp"

#include <cerrno>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace husk {

std::string named_netns_path(std::string const& name) { return std::string(named_netns_directory) + "/" + name; }

Result<void> create_named_network_namespace(std::string const& ip_tool, std::string const& name)
{
    return run_host_command({ ip_tool, "netns", "add", name });
}

Result<void> delete_named_network_namespace(std::string const& name)
{
    auto path = named_netns_path(name);
    if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL && errno != ENOENT)
        return fail_errno("unmounting " + path);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return fail_errno("removing " + path);
    return {};
}

bool named_network_namespace_exists(std::string const& name)
{
    struct stat info { };
    return ::lstat(named_netns_path(name).c_str(), &info) == 0;
}

Result<void> in_network_namespace(std::string const& path, std::function<Result<void>()> const& work)
{
    auto home = TRY(Fd::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    auto target = TRY(Fd::open(path, O_RDONLY | O_CLOEXEC));
    if (::setns(target.get(), CLONE_NEWNET) != 0)
        return fail_errno("entering the network namespace " + path);
    auto outcome = work();
    // Staying in the sandbox's namespace would put host-side rules in the wrong place; setns
    // back to a namespace we hold a descriptor of cannot fail short of a kernel bug.
    if (::setns(home.get(), CLONE_NEWNET) != 0)
        ::abort();
    return outcome;
}

std::vector<pid_t> processes_in_network_namespace(std::string const& path)
{
    std::vector<pid_t> found;
    struct stat target { };
    if (::stat(path.c_str(), &target) != 0)
        return found;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr)
        return found;
    while (auto* entry = ::readdir(proc)) {
        char* end = nullptr;
        long pid = std::strtol(entry->d_name, &end, 10);
        if (pid <= 0 || *end != '\0' || pid == ::getpid())
            continue;
        struct stat info { };
        std::string ns = std::string("/proc/") + entry->d_name + "/ns/net";
        if (::stat(ns.c_str(), &info) == 0 && info.st_ino == target.st_ino && info.st_dev == target.st_dev)
            found.push_back(static_cast<pid_t>(pid));
    }
    ::closedir(proc);
    return found;
}

Result<void> write_sysctl(std::string const& path, std::string const& value)
{
    auto fd = TRY(Fd::open(path, O_WRONLY | O_CLOEXEC));
    TRY_CONTEXT(write_all(fd.get(), value.data(), value.size()), path);
    return {};
}

} // namespace husk
