// ShareServer: requests that change the share's tree or a file's attributes. The dispatcher has
// already refused all of them with EROFS on a read-only share.
#include "runtime/share/share_server.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace husk {

using namespace p9;

namespace {
    // The qid of `name` in `directory` after creating it there.
    int qid_of(int directory, std::string_view name, Qid& qid)
    {
        struct stat st { };
        if (::fstatat(directory, std::string(name).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            return errno;
        qid = share_qid(st);
        return 0;
    }
} // namespace

int ShareServer::mkdir(Tmkdir const& request, ReplyWriter& out)
{
    auto* fid = find(request.dfid);
    if (!fid)
        return EBADF;
    if (int bad = check_share_name(request.name); bad != 0)
        return -bad;
    int directory = directory_fd(*fid);
    if (directory < 0)
        return -directory;
    Fd owned(directory);
    if (::mkdirat(directory, std::string(request.name).c_str(), guest_mode(request.mode)) != 0)
        return errno;
    if (guest_owned()) {
        if (int error = give_created_to_guest(*fid, request.name, request.gid, request.mode, AT_REMOVEDIR); error != 0)
            return error;
    }
    Qid qid;
    if (int error = qid_of(directory, request.name, qid); error != 0)
        return error;
    out.writer().qid(qid);
    return 0;
}

int ShareServer::symlink(Tsymlink const& request, ReplyWriter& out)
{
    auto* fid = find(request.fid);
    if (!fid)
        return EBADF;
    if (int bad = check_share_name(request.name); bad != 0)
        return -bad;
    if (request.target.empty())
        return ENOENT;
    if (request.target.size() > max_symlink_target)
        return ENAMETOOLONG;
    int directory = directory_fd(*fid);
    if (directory < 0)
        return -directory;
    Fd owned(directory);
    // Any target text is fine, "/etc/shadow" included: the server never follows a symlink.
    if (::symlinkat(std::string(request.target).c_str(), directory, std::string(request.name).c_str()) != 0)
        return errno;
    if (guest_owned()) {
        if (int error = give_created_to_guest(*fid, request.name, request.gid, 0777, 0); error != 0)
            return error;
    }
    Qid qid;
    if (int error = qid_of(directory, request.name, qid); error != 0)
        return error;
    out.writer().qid(qid);
    return 0;
}

int ShareServer::link(Tlink const& request)
{
    auto* directory_fid = find(request.dfid);
    auto* target_fid = find(request.fid);
    if (!directory_fid || !target_fid)
        return EBADF;
    if (int bad = check_share_name(request.name); bad != 0)
        return -bad;
    int directory = directory_fd(*directory_fid);
    if (directory < 0)
        return -directory;
    Fd owned_directory(directory);
    int target = path_fd(*target_fid);
    if (target < 0)
        return -target;
    Fd owned_target(target);
    // The target is a fid, so a file inside the share; linked by its descriptor (through
    // /proc/self/fd), so no path is resolved again between the check and the link.
    if (::linkat(m_root.proc_fds(), std::to_string(target).c_str(), directory, std::string(request.name).c_str(),
            AT_SYMLINK_FOLLOW)
        != 0)
        return errno;
    return 0;
}

int ShareServer::renameat(Trenameat const& request)
{
    auto* old_fid = find(request.olddirfid);
    auto* new_fid = find(request.newdirfid);
    if (!old_fid || !new_fid)
        return EBADF;
    if (int bad = check_share_name(request.oldname); bad != 0)
        return -bad;
    if (int bad = check_share_name(request.newname); bad != 0)
        return -bad;
    int old_directory = directory_fd(*old_fid);
    if (old_directory < 0)
        return -old_directory;
    Fd owned_old(old_directory);
    int new_directory = directory_fd(*new_fid);
    if (new_directory < 0)
        return -new_directory;
    Fd owned_new(new_directory);
    if (::renameat(
            old_directory, std::string(request.oldname).c_str(), new_directory, std::string(request.newname).c_str())
        != 0)
        return errno;
    rename_fids(join_share_path(old_fid->path, request.oldname), join_share_path(new_fid->path, request.newname));
    return 0;
}

int ShareServer::rename(Trename const& request)
{
    auto* fid = find(request.fid);
    auto* new_fid = find(request.dfid);
    if (!fid || !new_fid)
        return EBADF;
    if (fid->path.empty())
        return EBUSY; // the share's root stays where it is
    if (int bad = check_share_name(request.name); bad != 0)
        return -bad;
    int old_directory = m_root.resolve(share_parent_path(fid->path), O_PATH | O_DIRECTORY);
    if (old_directory < 0)
        return -old_directory;
    Fd owned_old(old_directory);
    int new_directory = directory_fd(*new_fid);
    if (new_directory < 0)
        return -new_directory;
    Fd owned_new(new_directory);
    std::string from = fid->path;
    if (::renameat(
            old_directory, std::string(share_base_name(from)).c_str(), new_directory, std::string(request.name).c_str())
        != 0)
        return errno;
    rename_fids(from, join_share_path(new_fid->path, request.name));
    return 0;
}

int ShareServer::unlinkat(Tunlinkat const& request)
{
    auto* fid = find(request.dirfid);
    if (!fid)
        return EBADF;
    if ((request.flags & ~unlink_remove_dir) != 0)
        return EINVAL;
    if (int bad = check_share_name(request.name); bad != 0)
        return -bad;
    int directory = directory_fd(*fid);
    if (directory < 0)
        return -directory;
    Fd owned(directory);
    int flags = (request.flags & unlink_remove_dir) ? AT_REMOVEDIR : 0;
    return ::unlinkat(directory, std::string(request.name).c_str(), flags) == 0 ? 0 : errno;
}

int ShareServer::remove(Tremove const& request)
{
    auto* fid = find(request.fid);
    if (!fid)
        return EBADF;
    int error = 0;
    if (fid->path.empty()) {
        error = EBUSY;
    } else if (int directory = m_root.resolve(share_parent_path(fid->path), O_PATH | O_DIRECTORY); directory < 0) {
        error = -directory;
    } else {
        Fd owned(directory);
        int flags = fid->qid.type == qid_type::directory ? AT_REMOVEDIR : 0;
        if (::unlinkat(directory, std::string(share_base_name(fid->path)).c_str(), flags) != 0)
            error = errno;
    }
    m_fids.erase(request.fid); // 9P: Tremove clunks the fid even when the removal fails
    return error;
}

int ShareServer::setattr(Tsetattr const& request)
{
    auto* fid = find(request.fid);
    if (!fid)
        return EBADF;
    int fd = path_fd(*fid);
    if (fd < 0)
        return -fd;
    Fd path(fd);
    struct stat st { };
    if (::fstat(fd, &st) != 0)
        return errno;
    bool is_link = S_ISLNK(st.st_mode);
    // The *at calls below go through /proc/self/fd/N: exactly the inode checked, no path.
    std::string self = std::to_string(fd);
    // setattr::uid / setattr::gid: on a guest-owned share the file's new owner, before the mode
    // (a chown clears set-ID bits the mode may set again); otherwise accepted and ignored: the
    // guest's ids mean nothing on the host and the server never chowns (see the class comment).
    if (guest_owned() && (request.valid & (setattr::uid | setattr::gid))) {
        uid_t uid = (request.valid & setattr::uid) ? request.uid : static_cast<uid_t>(-1);
        gid_t gid = (request.valid & setattr::gid) ? request.gid : static_cast<gid_t>(-1);
        if (::fchownat(fd, "", uid, gid, AT_EMPTY_PATH) != 0)
            return errno;
        // The guest's kernel sends the mode with the owner when its chown clears set-ID bits;
        // without one, the host's chown must not have changed it either.
        struct stat after { };
        if (!(request.valid & setattr::mode) && !is_link && ::fstat(fd, &after) == 0 && after.st_mode != st.st_mode
            && ::fchmodat(m_root.proc_fds(), self.c_str(), st.st_mode & 07777, 0) != 0)
            return errno;
    }
    if (request.valid & setattr::mode) {
        if (is_link)
            return EOPNOTSUPP;
        if (::fchmodat(m_root.proc_fds(), self.c_str(), guest_mode(request.mode), 0) != 0)
            return errno;
    }
    if (request.valid & setattr::size) {
        if (!S_ISREG(st.st_mode))
            return S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        int target = fid->is_open && fid->writable ? fid->open_file.get() : -1;
        Fd reopened;
        if (target < 0) {
            int opened = m_root.reopen(fd, O_WRONLY);
            if (opened < 0)
                return -opened;
            reopened = Fd(opened);
            target = opened;
        }
        if (::ftruncate(target, static_cast<off_t>(request.size)) != 0)
            return errno;
    }
    if (request.valid & (setattr::atime | setattr::mtime)) {
        timespec times[2];
        times[0].tv_nsec = UTIME_OMIT;
        times[1].tv_nsec = UTIME_OMIT;
        if (request.valid & setattr::atime) {
            bool given = request.valid & setattr::atime_set;
            times[0].tv_sec = given ? static_cast<time_t>(request.atime_sec) : 0;
            times[0].tv_nsec = given ? static_cast<long>(request.atime_nsec % 1000000000) : UTIME_NOW;
        }
        if (request.valid & setattr::mtime) {
            bool given = request.valid & setattr::mtime_set;
            times[1].tv_sec = given ? static_cast<time_t>(request.mtime_sec) : 0;
            times[1].tv_nsec = given ? static_cast<long>(request.mtime_nsec % 1000000000) : UTIME_NOW;
        }
        if (is_link) {
            // A symlink's own times, by name in its (confined) directory, never following it.
            int directory = m_root.resolve(share_parent_path(fid->path), O_PATH | O_DIRECTORY);
            if (directory < 0)
                return -directory;
            Fd owned(directory);
            if (::utimensat(directory, std::string(share_base_name(fid->path)).c_str(), times, AT_SYMLINK_NOFOLLOW)
                != 0)
                return errno;
        } else if (::utimensat(m_root.proc_fds(), self.c_str(), times, 0) != 0) {
            return errno;
        }
    }
    return 0;
}

} // namespace husk
