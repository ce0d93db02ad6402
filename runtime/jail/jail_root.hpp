// JailRoot: the per-VM root directory <parent>/<vm-id> a jailed VMM pivots into. It holds only
// what the VM needs, each bind-mounted on its own: /dev/kvm (and /dev/net/tun with networking),
// its images (read-only unless writable disks), nothing else; sockets the VMM creates itself.
//
// Use inside a private mount namespace (enter_namespaces): the mounts are then invisible on the
// host, and die with the VMM. The directory itself stays on the host until
// remove_jail_directory(), which the launcher calls when the VMM has ended (also after kill -9).
//
// Paths: the parent directory is trusted configuration (e.g. /run/husk/jail). Below it nothing
// is followed: every component is created and opened with O_NOFOLLOW relative to its parent's
// descriptor, mount sources are opened with O_NOFOLLOW, and mounts are made descriptor to
// descriptor (open_tree, mount_setattr, move_mount), so a swapped-in symlink is refused, never
// followed, and a mount is never writable even for an instant when it should be read-only.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <string>
#include <sys/types.h>

namespace husk {

struct JailMount {
    enum class Access { ReadOnly, ReadWrite };
    std::string host_path; // its last component must not be a symlink
    std::string jail_path; // relative to the jail root: "dev/kvm", "images/rootfs.ext4"
    Access access { Access::ReadOnly };
};

struct JailOwner {
    uid_t uid { 0 };
    gid_t gid { 0 };
};

class JailRoot {
public:
    // Creates <parent>/<vm_id> (mode 0700, owned by `owner`); fails if it exists already.
    static Result<JailRoot> create(std::string const& parent_directory, std::string const& vm_id, JailOwner owner);

    // Bind-mounts host_path at jail_path: nosuid, noexec always; nodev unless it is a device;
    // read-only unless ReadWrite. Missing directories on the way are created (root, 0755).
    Result<void> add_mount(JailMount const& mount);

    // Mounts a procfs of this process's PID namespace at jail_path ("proc"), showing only its
    // processes' directories (subset=pid: no /proc/sys, /proc/sysrq-trigger or other global
    // files), nosuid, nodev, noexec. For the file-sharing server's /proc/self/fd: one opened from
    // the host's /proc would lead, through "..", to the host's global proc files.
    Result<void> mount_proc(std::string const& jail_path);

    // Makes the jail root this process's "/" (pivot_root) and detaches the old root.
    Result<void> pivot();

    std::string const& path() const { return m_path; }

private:
    JailRoot(Fd root, std::string path)
        : m_root(std::move(root))
        , m_path(std::move(path))
    {
    }

    Fd m_root; // O_PATH descriptor of the jail root directory
    std::string m_path;
};

// Removes <parent>/<vm_id> and everything below it without following symlinks; refuses to
// descend into anything mounted there. Succeeds when the directory is already gone.
Result<void> remove_jail_directory(std::string const& parent_directory, std::string const& vm_id);

} // namespace husk
