// ShareServer: saving a 9P session for a snapshot and taking one over at a restore.
//
// A fid is a path relative to the share root (ShareFid::path, kept up to date by the guest's
// renames), so the path is what is saved. An open fid's path is checked against the inode its
// descriptor holds: if the host renamed the file within the share, /proc/self/fd names where it
// is now (relative to the root's own /proc/self/fd name, inside the jail too); if it was deleted
// or moved out of the share, the snapshot fails, since a restore could not give the guest that
// file again. A restore resolves every path with ShareRoot::resolve (openat2 RESOLVE_IN_ROOT,
// no symlinks, no magic links, no mount crossing) and reopens open fids through
// ShareRoot::reopen, as Tlopen does, on the serving thread with the jail's identity.
#include "runtime/share/share_server.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace husk {

namespace {
    bool same_inode(struct stat const& a, struct stat const& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

    std::string quoted(std::string const& path) { return path.empty() ? "the share's root" : "'" + path + "'"; }

    // readlink of /proc/self/fd/N through the descriptor `proc_fds`: the path the kernel
    // gives the open file, as seen from this process's root.
    std::string fd_link(int proc_fds, int fd)
    {
        char target[4096];
        ssize_t length = ::readlinkat(proc_fds, std::to_string(fd).c_str(), target, sizeof target);
        if (length <= 0 || static_cast<size_t>(length) >= sizeof target)
            return {};
        return std::string(target, static_cast<size_t>(length));
    }

    // "" or names check_share_name accepts, joined by single '/'.
    bool is_share_path(std::string_view path)
    {
        while (!path.empty()) {
            size_t slash = path.find('/');
            if (check_share_name(path.substr(0, slash)) != 0)
                return false;
            if (slash == std::string_view::npos)
                break;
            path.remove_prefix(slash + 1);
            if (path.empty())
                return false; // a trailing '/'
        }
        return true;
    }

    std::string type_name(uint8_t qid_type)
    {
        return qid_type == p9::qid_type::directory ? "a directory"
            : qid_type == p9::qid_type::symlink    ? "a symlink"
                                                   : "a file";
    }
} // namespace

Result<std::string> ShareServer::open_fid_path(uint32_t number, ShareFid const& fid) const
{
    struct stat held { };
    if (::fstat(fid.open_file.get(), &held) != 0)
        return fail_errno("fid " + std::to_string(number));
    auto names_held = [&](std::string const& path) {
        int fd = m_root.resolve(path, O_PATH);
        if (fd < 0)
            return false;
        Fd owned(fd);
        struct stat st { };
        return ::fstat(fd, &st) == 0 && same_inode(st, held);
    };
    if (names_held(fid.path))
        return fid.path;
    std::string gone = "the guest holds " + quoted(fid.path) + " open (fid " + std::to_string(number) + "), but ";
    if (held.st_nlink == 0)
        return fail(gone + "it was deleted; close it in the guest before the snapshot");
    // Renamed on the host behind the guest's back: find it by its descriptor.
    std::string root = fd_link(m_root.proc_fds(), m_root.root_fd());
    std::string now = fd_link(m_root.proc_fds(), fid.open_file.get());
    std::string prefix = root == "/" ? root : root + "/";
    if (!root.empty() && now.size() > prefix.size() && now.starts_with(prefix)) {
        std::string relative = now.substr(prefix.size());
        if (names_held(relative))
            return relative;
    }
    return fail(gone + "it was moved out of the share");
}

Result<ShareSession> ShareServer::save_session() const
{
    ShareSession session;
    session.msize = m_msize;
    session.fids.reserve(m_fids.size());
    for (auto const& [number, fid] : m_fids) {
        SavedShareFid saved;
        saved.fid = number;
        saved.uid = fid.uid;
        saved.qid_type = fid.qid.type;
        if (fid.is_open) {
            saved.path = TRY(open_fid_path(number, fid));
            saved.state = SavedFidState::Open;
            int flags = ::fcntl(fid.open_file.get(), F_GETFL);
            if (flags < 0)
                return fail_errno("the open flags of fid " + std::to_string(number));
            saved.open_flags = fid.qid.type == p9::qid_type::directory
                ? uint32_t { O_RDONLY }
                : static_cast<uint32_t>(flags) & saved_open_flags_mask;
        } else {
            saved.path = fid.path;
            int fd = path_fd(fid);
            struct stat st { };
            if (fd >= 0 && ::fstat(fd, &st) == 0)
                saved.qid_type = share_qid(st).type; // what the name holds now, as a use would see
            else
                saved.state = SavedFidState::Stale; // it answers ENOENT now and after a restore
            if (fd >= 0)
                ::close(fd);
        }
        session.fids.push_back(std::move(saved));
    }
    std::sort(session.fids.begin(), session.fids.end(), [](auto const& a, auto const& b) { return a.fid < b.fid; });
    return session;
}

Result<ShareFid> ShareServer::restore_fid(SavedShareFid const& saved) const
{
    ShareFid fid;
    fid.path = saved.path;
    fid.uid = saved.uid;
    fid.qid.type = saved.qid_type;
    if (saved.state == SavedFidState::Stale)
        return fid;
    std::string which = quoted(saved.path) + " (fid " + std::to_string(saved.fid) + ")";
    int fd = path_fd(fid);
    if (fd < 0)
        return fail(which + " cannot be found in " + m_root.host_path() + ": " + std::strerror(-fd));
    Fd path(fd);
    struct stat st { };
    if (::fstat(fd, &st) != 0)
        return fail_errno(which);
    fid.qid = share_qid(st);
    if (fid.qid.type != saved.qid_type)
        return fail(which + " was " + type_name(saved.qid_type) + " in the snapshot and is " + type_name(fid.qid.type)
            + " in " + m_root.host_path());
    if (saved.state != SavedFidState::Open)
        return fid;
    bool directory = S_ISDIR(st.st_mode);
    if (!directory && !S_ISREG(st.st_mode))
        return fail(which + " is neither a regular file nor a directory");
    int flags = static_cast<int>(saved.open_flags & saved_open_flags_mask);
    if (m_root.read_only() && (flags & O_ACCMODE) != O_RDONLY)
        return fail(which + " was open for writing, but the share is read-only");
    int opened = m_root.reopen(fd, directory ? O_RDONLY | O_DIRECTORY : flags);
    if (opened < 0)
        return fail(which + " cannot be opened again: " + std::strerror(-opened));
    fid.open_file = Fd(opened);
    fid.is_open = true;
    fid.writable = !directory && (flags & O_ACCMODE) != O_RDONLY;
    return fid;
}

Result<void> ShareServer::restore_session(ShareSession const& session)
{
    m_fids.clear();
    m_msize = std::clamp(session.msize, p9::min_msize, max_msize);
    for (auto const& saved : session.fids) {
        // The snapshot reader checked the shape; every name is checked again as a walk would.
        if (!is_share_path(saved.path))
            return fail("fid " + std::to_string(saved.fid) + " has a malformed path");
        if (m_fids.size() >= max_fids || m_fids.contains(saved.fid))
            return fail("fid " + std::to_string(saved.fid) + " is listed twice or is one too many");
        auto restored = restore_fid(saved);
        if (!restored) {
            m_fids.clear();
            return unexpected(std::move(restored).error());
        }
        m_fids.emplace(saved.fid, std::move(restored).value());
    }
    return {};
}

} // namespace husk
