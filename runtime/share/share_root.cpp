// ShareRoot: opening the share, the start-up permission check and the confined lookups.
#include "runtime/share/share_root.hpp"

#include "runtime/base/openat2.hpp"

#include <cerrno>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace husk {

namespace {
    // Whether `identity` has all of `wanted` (rwx bits as for the owner: 04, 02, 01) on a file
    // with `st`, by the classic owner/group/other rules (ACLs are not consulted: this check only
    // turns a certain failure into a clear message at start).
    bool permits(struct stat const& st, ShareIdentity identity, unsigned wanted)
    {
        if (identity.uid == 0)
            return true;
        unsigned bits = st.st_uid == identity.uid ? (st.st_mode >> 6) & 7
            : st.st_gid == identity.gid           ? (st.st_mode >> 3) & 7
                                                  : st.st_mode & 7;
        return (bits & wanted) == wanted;
    }
} // namespace

Result<ShareRoot> ShareRoot::open(
    std::string const& host_path, ShareAccess access, ShareIdentity identity, ShareOwnership ownership)
{
    ShareRoot root;
    root.m_host_path = host_path;
    root.m_access = access;
    root.m_ownership = ownership;
    root.m_root = TRY(Fd::open(host_path, O_PATH | O_DIRECTORY | O_CLOEXEC));
    struct stat st { };
    if (::fstat(root.m_root.get(), &st) != 0)
        return fail_errno("stat of the shared directory " + host_path);
    std::string who = "uid " + std::to_string(identity.uid) + " (the user husk-vmm serves shares as)";
    if (ownership == ShareOwnership::Guest)
        identity.uid = 0; // served with DAC override: nothing to check
    if (!permits(st, identity, 05))
        return fail("shared directory " + host_path + " is not readable and searchable by " + who
            + ": grant it r-x on the directory");
    if (access == ShareAccess::ReadWrite && !permits(st, identity, 07))
        return fail("shared directory " + host_path + " is not writable by " + who
            + ": make it writable for that user, or share it read-only (,ro)");
    // /proc/self resolves now, to this process; the descriptor keeps working after pivot_root.
    root.m_proc_fds = TRY_CONTEXT(Fd::open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC),
        "file sharing needs /proc mounted when husk-vmm starts");
    return root;
}

namespace {
    // Opens `path` and makes it descriptor number `keep`, which must name the same inode.
    Result<void> replace_keeping_number(int keep, std::string const& path, char const* what)
    {
        struct stat before { };
        if (::fstat(keep, &before) != 0)
            return fail_errno(std::string("stat of the ") + what);
        auto fresh = TRY_CONTEXT(Fd::open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), what);
        struct stat after { };
        if (::fstat(fresh.get(), &after) != 0)
            return fail_errno(std::string("stat of the ") + what + " in the jail");
        if (before.st_dev != after.st_dev || before.st_ino != after.st_ino)
            return fail(std::string("the ") + what + " in the jail (" + path + ") is not the directory opened before");
        if (::dup3(fresh.get(), keep, O_CLOEXEC) < 0)
            return fail_errno(std::string("dup3 of the ") + what);
        return {};
    }
} // namespace

Result<void> ShareRoot::reopen_in_jail(std::string const& jail_path, std::string const& proc_fd_path)
{
    TRY(replace_keeping_number(m_root.get(), jail_path, "shared directory"));
    // The jail's procfs is another mount of another PID namespace: a different inode, so it is
    // checked for what it is instead (a procfs directory), not against the old one.
    auto fresh = TRY_CONTEXT(Fd::open(proc_fd_path, O_PATH | O_DIRECTORY | O_CLOEXEC), "the jail's /proc/self/fd");
    struct statfs fs { };
    if (::fstatfs(fresh.get(), &fs) != 0 || fs.f_type != PROC_SUPER_MAGIC)
        return fail(proc_fd_path + " is not on a procfs");
    if (::dup3(fresh.get(), m_proc_fds.get(), O_CLOEXEC) < 0)
        return fail_errno("dup3 of the jail's /proc/self/fd");
    return {};
}

int ShareRoot::resolve(std::string_view relative, int flags, mode_t mode) const
{
    std::string path = relative.empty() ? std::string(".") : std::string(relative);
    open_how how {};
    how.flags = static_cast<uint64_t>(flags | O_NOFOLLOW | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    return openat2_retrying(m_root.get(), path.c_str(), how);
}

int ShareRoot::reopen(int path_fd, int flags) const
{
    // Following this magic link is the point: it names our own descriptor, nothing the guest
    // chose. O_NOFOLLOW would refuse it.
    int fd = ::openat(m_proc_fds.get(), std::to_string(path_fd).c_str(), flags | O_CLOEXEC | O_NOCTTY);
    return fd < 0 ? -errno : fd;
}

int check_share_name(std::string_view name)
{
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos)
        return -EINVAL;
    if (name.size() > 255)
        return -ENAMETOOLONG;
    return 0;
}

std::string join_share_path(std::string_view directory, std::string_view name)
{
    if (directory.empty())
        return std::string(name);
    std::string path(directory);
    path += '/';
    path += name;
    return path;
}

std::string_view share_parent_path(std::string_view path)
{
    auto slash = path.rfind('/');
    return slash == std::string_view::npos ? std::string_view {} : path.substr(0, slash);
}

std::string_view share_base_name(std::string_view path)
{
    auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

} // namespace husk
