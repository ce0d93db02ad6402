// ShareServer: opening, creating, reading, writing and listing files.
#include "runtime/share/share_server.hpp"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace husk {

using namespace p9;

namespace {
    // Host open(2) flags for the 9P2000.L flags a client may send, or -EINVAL. Only the access
    // mode and the flags below are honoured; the rest (O_DIRECT, O_NOATIME, O_ASYNC, ...) are
    // the guest's own business and dropped.
    int host_open_flags(uint32_t flags)
    {
        int host = 0;
        switch (flags & open_flag::access_mask) {
        case 0:
            host = O_RDONLY;
            break;
        case open_flag::write_only:
            host = O_WRONLY;
            break;
        case open_flag::read_write:
            host = O_RDWR;
            break;
        default:
            return -EINVAL;
        }
        if (flags & open_flag::truncate)
            host |= O_TRUNC;
        if (flags & open_flag::append)
            host |= O_APPEND;
        if (flags & open_flag::dsync)
            host |= O_DSYNC;
        if ((flags & open_flag::sync) == open_flag::sync)
            host |= O_SYNC;
        return host;
    }

    bool writes(int host_flags) { return (host_flags & O_ACCMODE) != O_RDONLY || (host_flags & O_TRUNC); }

    struct LinuxDirent64 {
        uint64_t d_ino;
        int64_t d_off;
        uint16_t d_reclen;
        uint8_t d_type;
        char d_name[];
    };

    uint8_t dirent_qid_type(uint8_t d_type)
    {
        return d_type == DT_DIR ? qid_type::directory : d_type == DT_LNK ? qid_type::symlink : qid_type::file;
    }
} // namespace

int ShareServer::lopen(Tlopen const& request, ReplyWriter& out)
{
    auto* fid = find(request.fid);
    if (!fid)
        return EBADF;
    if (fid->is_open)
        return EBADF;
    int flags = host_open_flags(request.flags);
    if (flags < 0)
        return -flags;
    if (m_root.read_only() && writes(flags))
        return EROFS;
    int fd = path_fd(*fid);
    if (fd < 0)
        return -fd;
    Fd path(fd);
    struct stat st { };
    if (::fstat(fd, &st) != 0)
        return errno;
    if (S_ISDIR(st.st_mode)) {
        if (writes(flags))
            return EISDIR;
        flags = O_RDONLY | O_DIRECTORY;
    } else if (S_ISLNK(st.st_mode)) {
        return ELOOP; // symlinks are read with Treadlink, never opened or followed
    } else if (!S_ISREG(st.st_mode)) {
        return EPERM; // device nodes, FIFOs, sockets: never opened on the guest's behalf
    }
    // Exactly the inode checked above, whatever the path names by now.
    int opened = m_root.reopen(fd, flags);
    if (opened < 0)
        return -opened;
    fid->open_file = Fd(opened);
    fid->is_open = true;
    fid->writable = (flags & O_ACCMODE) != O_RDONLY;
    fid->qid = share_qid(st);
    out.writer().qid(fid->qid);
    out.writer().u32(0); // iounit: the client uses msize
    return 0;
}

int ShareServer::lcreate(Tlcreate const& request, ReplyWriter& out)
{
    auto* fid = find(request.fid);
    if (!fid)
        return EBADF;
    if (fid->is_open)
        return EBADF;
    if (int bad = check_share_name(request.name); bad != 0)
        return -bad;
    int flags = host_open_flags(request.flags);
    if (flags < 0)
        return -flags;
    if (fid->qid.type != qid_type::directory)
        return ENOTDIR;
    // Confined like every lookup (no symlink anywhere on the way, the name itself included:
    // O_NOFOLLOW), and O_EXCL: a create never opens anything that already exists.
    std::string path = join_share_path(fid->path, request.name);
    int fd = m_root.resolve(path, flags | O_CREAT | O_EXCL | O_NOCTTY, guest_mode(request.mode));
    if (fd < 0)
        return -fd;
    Fd file(fd);
    if (guest_owned()) {
        if (int error = give_to_guest(fd, fid->uid, request.gid, request.mode); error != 0) {
            // Never leave the file behind with the server's ownership.
            if (int directory = m_root.resolve(fid->path, O_PATH | O_DIRECTORY); directory >= 0) {
                Fd owned(directory);
                ::unlinkat(directory, std::string(request.name).c_str(), 0);
            }
            return error;
        }
    }
    struct stat st { };
    if (::fstat(fd, &st) != 0)
        return errno;
    fid->path = std::move(path);
    fid->open_file = std::move(file);
    fid->is_open = true;
    fid->writable = (flags & O_ACCMODE) != O_RDONLY;
    fid->qid = share_qid(st);
    out.writer().qid(fid->qid);
    out.writer().u32(0);
    return 0;
}

int ShareServer::read(Tread const& request, ReplyWriter& out)
{
    auto* fid = find(request.fid);
    if (!fid || !fid->is_open)
        return EBADF;
    if (fid->qid.type == qid_type::directory)
        return EISDIR;
    auto& w = out.writer();
    size_t count_at = w.size();
    w.u32(0);
    if (!m_read_data.empty())
        return read_into_guest(*fid, request, out);
    size_t wanted = std::min<size_t>(request.count, w.room());
    auto* data = w.reserve(wanted);
    if (!data && wanted != 0)
        return EMSGSIZE;
    ssize_t got;
    do
        got = ::pread(fid->open_file.get(), data, wanted, static_cast<off_t>(request.offset));
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return errno;
    w.unreserve(wanted - static_cast<size_t>(got));
    w.patch_u32(count_at, static_cast<uint32_t>(got));
    return 0;
}

// Zero-copy (handle_read): the data goes by one preadv into the guest's buffers beside the
// reply, never larger than the client asked for or its msize allows.
int ShareServer::read_into_guest(ShareFid const& fid, Tread const& request, ReplyWriter& out)
{
    uint64_t wanted = std::min<uint64_t>({ request.count, m_read_room, m_msize - rread_header_size });
    m_read_vectors.clear();
    for (uint64_t left = wanted; auto const& vector : m_read_data) {
        if (left == 0)
            break;
        size_t length = static_cast<size_t>(std::min<uint64_t>(vector.iov_len, left));
        m_read_vectors.push_back({ vector.iov_base, length });
        left -= length;
    }
    ssize_t got;
    do
        got = ::preadv(fid.open_file.get(), m_read_vectors.data(), static_cast<int>(m_read_vectors.size()),
            static_cast<off_t>(request.offset));
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return errno;
    out.writer().patch_u32(out.writer().size() - 4, static_cast<uint32_t>(got));
    m_read_into_guest = static_cast<uint64_t>(got);
    return 0;
}

int ShareServer::write(Twrite const& request, ReplyWriter& out)
{
    auto* fid = find(request.fid);
    if (!fid || !fid->is_open || !fid->writable)
        return EBADF;
    // Zero-copy: straight from the guest's buffers (the device checked them all); else the data
    // inside the message. One system call either way (the event thread's seccomp budget).
    iovec in_message { const_cast<uint8_t*>(request.data.data()), request.data.size() };
    std::span<iovec const> data = request.external_count != 0 ? m_write_data : std::span<iovec const>(&in_message, 1);
    if (guest_owned()) {
        // Before the data lands, as the kernel does: never a changed program with its set-ID bits.
        if (int error = drop_set_id_after_write(*fid); error != 0)
            return error;
    }
    ssize_t put;
    do
        put = ::pwritev(
            fid->open_file.get(), data.data(), static_cast<int>(data.size()), static_cast<off_t>(request.offset));
    while (put < 0 && errno == EINTR);
    if (put < 0)
        return errno;
    out.writer().u32(static_cast<uint32_t>(put));
    return 0;
}

int ShareServer::readdir(Treaddir const& request, ReplyWriter& out)
{
    auto* fid = find(request.fid);
    if (!fid || !fid->is_open)
        return EBADF;
    if (fid->qid.type != qid_type::directory)
        return ENOTDIR;
    int fd = fid->open_file.get();
    // The offset is the cookie (d_off) of the last entry the client got: continue after it.
    if (::lseek(fd, static_cast<off_t>(request.offset), SEEK_SET) < 0)
        return errno;
    auto& w = out.writer();
    size_t count_at = w.size();
    w.u32(0);
    size_t room = std::min<size_t>(request.count, w.room());
    // 9P entries are larger than the kernel's, so a buffer of `room` bytes never yields fewer
    // entries than fit; more are simply left for the next request.
    m_dirents.resize(std::max<size_t>(room, 512));
    long got = ::syscall(SYS_getdents64, fd, m_dirents.data(), m_dirents.size());
    if (got < 0)
        return errno;
    size_t used = 0;
    for (long at = 0; at < got;) {
        auto const* entry = reinterpret_cast<LinuxDirent64 const*>(m_dirents.data() + at);
        std::string_view name(entry->d_name);
        size_t size = qid_size + 8 + 1 + 2 + name.size();
        if (used + size > room)
            break;
        Qid qid;
        qid.type = dirent_qid_type(entry->d_type);
        qid.path = entry->d_ino;
        w.qid(qid);
        w.u64(static_cast<uint64_t>(entry->d_off));
        w.u8(entry->d_type);
        w.string(name);
        used += size;
        at += entry->d_reclen;
    }
    w.patch_u32(count_at, static_cast<uint32_t>(used));
    return 0;
}

int ShareServer::fsync(Tfsync const& request)
{
    auto* fid = find(request.fid);
    if (!fid || !fid->is_open)
        return EBADF;
    int fd = fid->open_file.get();
    int done = request.datasync ? ::fdatasync(fd) : ::fsync(fd);
    return done == 0 ? 0 : errno;
}

} // namespace husk
