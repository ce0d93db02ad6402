// Mount table and mounting. No mount here gets MS_NOEXEC on /tmp: jobs commonly write a script or
// binary there and run it, and the sandbox boundary is the VM, not the mount flags.
#include "guest-init/mounts.hpp"

#include <array>
#include <cerrno>
#include <string>
#include <sys/mount.h>
#include <sys/stat.h>

namespace husk::init {

namespace {

    constexpr mode_t directory_mode = 0755;
    constexpr unsigned long kernel_interface_flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

    constexpr MountSpec proc { "proc", "/proc", "proc", kernel_interface_flags, nullptr, directory_mode,
        MountNeed::Required };

    constexpr std::array boot_mount_table {
        MountSpec { "sysfs", "/sys", "sysfs", kernel_interface_flags, nullptr, directory_mode, MountNeed::Required },
        // Device nodes must work here, so no MS_NODEV.
        MountSpec {
            "devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755", directory_mode, MountNeed::Required },
        MountSpec { "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666", directory_mode,
            MountNeed::Optional },
        // POSIX shared memory (shm_open, Python's multiprocessing) and what container engines expect.
        MountSpec {
            "tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", directory_mode, MountNeed::Required },
        MountSpec { "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", directory_mode, MountNeed::Required },
        MountSpec { "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", directory_mode, MountNeed::Required },
    };

} // namespace

MountSpec const& proc_mount() { return proc; }

std::span<MountSpec const> boot_mounts() { return boot_mount_table; }

Result<void> mount_filesystem(MountSpec const& spec)
{
    if (mkdir(spec.target, spec.target_mode) < 0 && errno != EEXIST)
        return fail_errno(std::string("cannot create mount point ") + spec.target);
    if (mount(spec.source, spec.target, spec.filesystem, spec.flags, spec.data) < 0 && errno != EBUSY)
        return fail_errno(std::string("cannot mount ") + spec.filesystem + " on " + spec.target);
    return {};
}

} // namespace husk::init
