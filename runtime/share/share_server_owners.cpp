// ShareServer: the guest's ownership on guest-owned shares (ShareOwnership::Guest): the owner and
// exact mode of new files, and the set-ID bits a write must clear because the server's own
// CAP_FSETID would keep them.
#include "runtime/share/share_server.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace husk {

mode_t ShareServer::guest_mode(uint32_t mode) const
{
    // Set-user-ID and set-group-ID only where the guest's ids are the owners: elsewhere they
    // would make host files run as the server's uid.
    return static_cast<mode_t>(mode & (guest_owned() ? 07777 : 01777));
}

int ShareServer::give_to_guest(int fd, uint32_t uid, uint32_t gid, uint32_t mode) const
{
    // AT_EMPTY_PATH: exactly this inode, also when it is a symlink (its own owner, like lchown).
    if (::fchownat(fd, "", uid, gid, AT_EMPTY_PATH) != 0)
        return errno;
    struct stat st { };
    if (::fstat(fd, &st) != 0)
        return errno;
    if (S_ISLNK(st.st_mode))
        return 0; // a symlink's mode is always 0777
    // The create applied the server's umask (the guest applied its own already) and the chown
    // cleared set-ID bits: set what the guest asked for.
    mode_t wanted = guest_mode(mode);
    if ((st.st_mode & 07777) == wanted)
        return 0;
    if (::fchmodat(m_root.proc_fds(), std::to_string(fd).c_str(), wanted, 0) != 0)
        return errno;
    return 0;
}

int ShareServer::give_created_to_guest(
    ShareFid const& parent, std::string_view name, uint32_t gid, uint32_t mode, int unlink_flags) const
{
    int error = 0;
    if (int fd = m_root.resolve(join_share_path(parent.path, name), O_PATH); fd < 0) {
        error = -fd;
    } else {
        Fd owned(fd);
        error = give_to_guest(fd, parent.uid, gid, mode);
    }
    if (error != 0) {
        if (int directory = m_root.resolve(parent.path, O_PATH | O_DIRECTORY); directory >= 0) {
            Fd owned(directory);
            ::unlinkat(directory, std::string(name).c_str(), unlink_flags);
        }
    }
    return error;
}

int ShareServer::drop_set_id_after_write(ShareFid const& fid) const
{
    // Guest root keeps them, as the kernel lets a writer with CAP_FSETID keep them (container
    // root has it); any other guest user loses them, so a setuid program cannot be rewritten.
    if (fid.uid == 0)
        return 0;
    struct stat st { };
    if (::fstat(fid.open_file.get(), &st) != 0)
        return errno;
    mode_t mode = st.st_mode & 07777;
    mode_t kept = mode & ~S_ISUID;
    if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
        kept &= ~S_ISGID; // without group execute, set-group-ID means mandatory locking: kept
    if (kept == mode)
        return 0;
    if (::fchmodat(m_root.proc_fds(), std::to_string(fid.open_file.get()).c_str(), kept, 0) != 0)
        return errno;
    return 0;
}

} // namespace husk
