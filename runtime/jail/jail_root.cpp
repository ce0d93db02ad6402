// JailRoot: creation, descriptor-based bind mounts, pivot_root.
#include "runtime/jail/jail_root.hpp"

#include "runtime/jail/jail_path.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace husk {

namespace {
    constexpr mode_t root_mode = 0700;
    constexpr mode_t directory_mode = 0755;
    constexpr mode_t mount_point_file_mode = 0600;

    Result<Fd> open_directory_nofollow(int directory, char const* name, std::string const& shown)
    {
        int fd = ::openat(directory, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return fail_errno("opening \"" + shown + "\" in the jail (symlinks are refused)");
        return Fd(fd);
    }

    // The directory that will hold the last component, creating missing ones on the way.
    Result<Fd> walk_to_parent(int root, std::vector<std::string> const& components, std::string const& shown)
    {
        auto directory = TRY(open_directory_nofollow(root, ".", shown));
        for (size_t i = 0; i + 1 < components.size(); ++i) {
            if (::mkdirat(directory.get(), components[i].c_str(), directory_mode) != 0 && errno != EEXIST)
                return fail_errno("creating \"" + components[i] + "\" for \"" + shown + "\" in the jail");
            directory = TRY(open_directory_nofollow(directory.get(), components[i].c_str(), shown));
        }
        return directory;
    }

    Result<void> create_mount_point(int directory, std::string const& name, bool is_directory, std::string const& shown)
    {
        if (is_directory) {
            if (::mkdirat(directory, name.c_str(), directory_mode) != 0)
                return fail_errno("creating the mount point \"" + shown + "\" in the jail");
            return {};
        }
        int fd = ::openat(
            directory, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mount_point_file_mode);
        if (fd < 0)
            return fail_errno("creating the mount point \"" + shown + "\" in the jail");
        ::close(fd);
        return {};
    }
} // namespace

Result<JailRoot> JailRoot::create(std::string const& parent_directory, std::string const& vm_id, JailOwner owner)
{
    TRY(validate_vm_id(vm_id));
    auto parent = TRY_CONTEXT(
        Fd::open(parent_directory, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), "the jail parent directory");
    std::string path = parent_directory + "/" + vm_id;
    if (::mkdirat(parent.get(), vm_id.c_str(), root_mode) != 0)
        return fail_errno("creating the jail root \"" + path + "\" (a leftover must be removed first)");
    auto root = TRY(open_directory_nofollow(parent.get(), vm_id.c_str(), path));
    if (::fchownat(root.get(), "", owner.uid, owner.gid, AT_EMPTY_PATH) != 0)
        return fail_errno("giving the jail root to uid " + std::to_string(owner.uid));
    return JailRoot(std::move(root), std::move(path));
}

Result<void> JailRoot::add_mount(JailMount const& mount)
{
    auto components = TRY(split_jail_path(mount.jail_path));
    auto source = TRY_CONTEXT(
        Fd::open(mount.host_path, O_PATH | O_NOFOLLOW | O_CLOEXEC), "the jail mount source (symlinks are refused)");
    struct stat source_stat { };
    if (::fstat(source.get(), &source_stat) != 0)
        return fail_errno("stat of \"" + mount.host_path + "\"");
    if (S_ISLNK(source_stat.st_mode))
        return fail("\"" + mount.host_path + "\" is a symlink; the jail mounts only what it names itself");
    bool is_directory = S_ISDIR(source_stat.st_mode);
    bool is_device = S_ISCHR(source_stat.st_mode) || S_ISBLK(source_stat.st_mode);

    auto directory = TRY(walk_to_parent(m_root.get(), components, mount.jail_path));
    TRY(create_mount_point(directory.get(), components.back(), is_directory, mount.jail_path));
    int target = ::openat(directory.get(), components.back().c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (target < 0)
        return fail_errno("opening the mount point \"" + mount.jail_path + "\"");
    Fd target_fd(target);

    int tree = ::open_tree(source.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0)
        return fail_errno("open_tree of \"" + mount.host_path + "\"");
    Fd tree_fd(tree);
    mount_attr attributes {};
    attributes.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
    if (!is_device)
        attributes.attr_set |= MOUNT_ATTR_NODEV;
    if (mount.access == JailMount::Access::ReadOnly)
        attributes.attr_set |= MOUNT_ATTR_RDONLY;
    if (::mount_setattr(tree_fd.get(), "", AT_EMPTY_PATH, &attributes, sizeof attributes) != 0)
        return fail_errno("mount_setattr for \"" + mount.jail_path + "\"");
    if (::move_mount(tree_fd.get(), "", target_fd.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        return fail_errno("move_mount of \"" + mount.host_path + "\" to \"" + mount.jail_path + "\"");
    return {};
}

Result<void> JailRoot::mount_proc(std::string const& jail_path)
{
    auto components = TRY(split_jail_path(jail_path));
    auto directory = TRY(walk_to_parent(m_root.get(), components, jail_path));
    TRY(create_mount_point(directory.get(), components.back(), true, jail_path));
    int target = ::openat(directory.get(), components.back().c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (target < 0)
        return fail_errno("opening the mount point \"" + jail_path + "\"");
    Fd target_fd(target);
    int context = ::fsopen("proc", FSOPEN_CLOEXEC);
    if (context < 0)
        return fail_errno("fsopen(proc)");
    Fd context_fd(context);
    if (::fsconfig(context, FSCONFIG_SET_STRING, "subset", "pid", 0) != 0)
        return fail_errno("procfs subset=pid (Linux 5.8 or later)");
    if (::fsconfig(context, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
        return fail_errno("creating the jail's procfs");
    int mounted = ::fsmount(context, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (mounted < 0)
        return fail_errno("fsmount of the jail's procfs");
    Fd mounted_fd(mounted);
    if (::move_mount(mounted, "", target_fd.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        return fail_errno("move_mount of the jail's procfs to \"" + jail_path + "\"");
    return {};
}

Result<void> JailRoot::pivot()
{
    // pivot_root needs the new root to be a mount point: bind it onto itself, with its mounts.
    if (::mount(m_path.c_str(), m_path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        return fail_errno("binding the jail root onto itself");
    if (::chdir(m_path.c_str()) != 0)
        return fail_errno("entering the jail root");
    // pivot_root(".", "."): the old root ends up stacked on "/", then is detached.
    if (::syscall(SYS_pivot_root, ".", ".") != 0)
        return fail_errno("pivot_root into \"" + m_path + "\"");
    if (::umount2(".", MNT_DETACH) != 0)
        return fail_errno("detaching the host root");
    if (::chdir("/") != 0)
        return fail_errno("chdir to the new root");
    m_root.reset(); // nothing needs the old handle, and it should not outlive the pivot
    return {};
}

} // namespace husk
