// ShareRoot: one shared host directory, opened once when the VMM starts (before the jail's
// pivot_root, so the descriptors stay valid inside the jail), and the confined lookups every
// guest-named path goes through:
//   - resolve(): openat2 from the root with RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
//     RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV and O_NOFOLLOW. ".." cannot climb above the root,
//     no symlink is ever followed (a trailing one is opened as itself with O_PATH), and no
//     mount point inside the share is crossed. Paths are never joined onto a host path string.
//   - reopen(): turns an O_PATH descriptor into an open file of exactly that inode through
//     /proc/self/fd (opened up front), so the type checked on the O_PATH descriptor is the type
//     opened: a FIFO or device node swapped in between cannot be opened.
// Errors are -errno values, the currency of 9P2000.L replies.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"

#include <string>
#include <string_view>
#include <sys/stat.h>
#include <sys/types.h>

namespace husk {

enum class ShareAccess { ReadWrite, ReadOnly };

// Who owns what the guest creates in the share, on the host.
enum class ShareOwnership {
    // The user the server runs as (the jail's): the guest's uids and gids are ignored, chown is
    // accepted and does nothing, set-user-ID and set-group-ID bits are dropped.
    ServerUser,
    // The guest's (runc's semantics without a user namespace): new files get the creating guest
    // user's uid and the gid the guest asks for, chown and set-ID bits are applied, and the server
    // acts for guest root on files of any owner. The server must hold CAP_CHOWN, CAP_DAC_OVERRIDE,
    // CAP_FOWNER and CAP_FSETID for that (runtime/jail/capabilities.hpp); the guest's kernel checks
    // its own users' permissions against the owners and modes the server reports.
    Guest,
};

// Who will serve the share: files the guest creates belong to this identity (the jail's when
// jailed, else the invoking user's), and a writable share must be writable by it.
struct ShareIdentity {
    uid_t uid { 0 };
    gid_t gid { 0 };
};

class ShareRoot {
public:
    // Opens `host_path` (a directory; the path itself may pass through symlinks: it is the
    // host user's choice) and checks that `identity` can search it and, for ReadWrite, write it.
    // With ShareOwnership::Guest the permission check is skipped: the server acts with DAC override.
    static Result<ShareRoot> open(std::string const& host_path, ShareAccess access, ShareIdentity identity,
        ShareOwnership ownership = ShareOwnership::ServerUser);

    // Replaces the root and /proc/self/fd descriptors, keeping their numbers (seccomp rules name
    // them), with ones opened at `jail_path` and `proc_fd_path` (the same directory bind-mounted in
    // the jail, and the jail's own procfs), once the process has pivoted into its jail. A
    // descriptor opened before the pivot lets ".." climb through the detached host tree; one opened
    // inside the new root stops at it. Fails if `jail_path` is not the same directory.
    Result<void> reopen_in_jail(std::string const& jail_path, std::string const& proc_fd_path);

    bool read_only() const { return m_access == ShareAccess::ReadOnly; }
    ShareOwnership ownership() const { return m_ownership; }
    std::string const& host_path() const { return m_host_path; }
    int root_fd() const { return m_root.get(); }

    // `relative` ("" is the root; components joined by '/', checked by the caller) opened with
    // `flags` | O_NOFOLLOW | O_CLOEXEC under the confinement above. fd or -errno.
    int resolve(std::string_view relative, int flags, mode_t mode = 0) const;
    // `path_fd` (an O_PATH descriptor from resolve) reopened with `flags`. fd or -errno.
    int reopen(int path_fd, int flags) const;
    // The "N" of /proc/self/fd/N: with proc_fds() as dirfd, *at calls reach exactly that inode.
    int proc_fds() const { return m_proc_fds.get(); }

private:
    ShareRoot() = default;

    std::string m_host_path;
    ShareAccess m_access { ShareAccess::ReadOnly };
    ShareOwnership m_ownership { ShareOwnership::ServerUser };
    Fd m_root;
    Fd m_proc_fds;
};

// A name the guest wants created, removed or renamed: one component, not "." or "..", no '/',
// 1..255 bytes. 0 or -errno (EINVAL, ENAMETOOLONG).
int check_share_name(std::string_view name);
// "a/b" + "c" = "a/b/c"; "" + "c" = "c".
std::string join_share_path(std::string_view directory, std::string_view name);
// "a/b/c" → "a/b"; "c" → ""; "" → "".
std::string_view share_parent_path(std::string_view path);
std::string_view share_base_name(std::string_view path);

} // namespace husk
