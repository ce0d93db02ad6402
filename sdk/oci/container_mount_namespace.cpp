// enter_private_mount_namespace / show_rootfs_at_namespace_root: unshare, openat2 and bind mounts
// through /proc/self/fd (the target is what was resolved inside the rootfs, never a host path).
#include "sdk/oci/container_mount_namespace.hpp"

#include "runtime/base/fd.hpp"
#include "runtime/base/openat2.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

namespace husk::oci {

namespace {

    // `path` inside the directory `root` as an O_PATH descriptor, as if `root` were "/".
    Result<Fd> open_inside(int root, std::string const& path)
    {
        open_how how {};
        how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
        how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        int fd = openat2_retrying(root, path.c_str(), how);
        if (fd < 0)
            return fail_errno(path + " in the container's rootfs", -fd);
        return Fd(fd);
    }

    std::string fd_path(Fd const& fd) { return "/proc/self/fd/" + std::to_string(fd.get()); }

} // namespace

Result<void> enter_private_mount_namespace()
{
    if (::unshare(CLONE_NEWNS) != 0)
        return fail_errno("unshare(CLONE_NEWNS) for the monitor");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        return fail_errno("making the monitor's mounts private");
    return {};
}

Result<std::vector<std::string>> show_rootfs_at_namespace_root(std::string const& rootfs, std::vector<Mount> const& volumes)
{
    std::vector<std::string> notes;
    auto root = TRY(Fd::open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC));
    auto bind_inside = [&](std::string const& source, std::string const& destination, bool read_only) -> Result<bool> {
        auto target = open_inside(root.get(), destination);
        if (!target) {
            notes.push_back("podman cp with the running container cannot reach " + destination + ": "
                + target.error().message);
            return false;
        }
        if (::mount(source.c_str(), fd_path(*target).c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
            return fail_errno("binding " + source + " at " + destination + " in the monitor's namespace");
        if (read_only) {
            // The bind is on top of what `target` names: resolve again to reach the bind itself.
            auto bound = TRY(open_inside(root.get(), destination));
            if (::mount(nullptr, fd_path(bound).c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0)
                return fail_errno("making " + destination + " read-only in the monitor's namespace");
        }
        return true;
    };
    // podman's copier re-executes itself through /proc/self/exe once it has joined (a runc
    // container has its procfs there): the monitor's, read-only so that a copy cannot write the
    // host's sysctls.
    TRY(bind_inside("/proc", "/proc", true));
    for (auto const& volume : volumes)
        TRY(bind_inside(volume.host, volume.guest, volume.read_only));
    if (::mount(fd_path(root).c_str(), "/", nullptr, MS_BIND | MS_REC, nullptr) != 0)
        return fail_errno("binding the rootfs on top of the monitor's \"/\"");
    return notes;
}

} // namespace husk::oci
