// ShareServer: dispatch, session (version, attach, flush), walks, clunk and the read-only
// queries (getattr, statfs, readlink).
#include "runtime/share/share_server.hpp"

#include "runtime/base/log.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace husk {

using namespace p9;

namespace {
    // Tattach without a numeric user (P9_NONUNAME): treated as the kernel's overflow uid, nobody.
    constexpr uint32_t no_uid = 0xffffffffu;
    constexpr uint32_t overflow_uid = 65534;
} // namespace

p9::Qid share_qid(struct stat const& st)
{
    Qid qid;
    qid.type = S_ISDIR(st.st_mode) ? qid_type::directory : S_ISLNK(st.st_mode) ? qid_type::symlink : qid_type::file;
    qid.version = static_cast<uint32_t>(st.st_mtim.tv_sec ^ st.st_mtim.tv_nsec ^ (st.st_size << 8));
    qid.path = st.st_ino;
    return qid;
}

ShareServer::ShareServer(ShareRoot root)
    : m_root(std::move(root))
{
}

size_t ShareServer::handle(std::span<uint8_t const> bytes, std::span<uint8_t> reply)
{
    return respond(parse_p9_request(bytes), reply);
}

size_t ShareServer::handle_write(
    std::span<uint8_t const> header, std::span<iovec const> data, uint64_t data_bytes, std::span<uint8_t> reply)
{
    m_write_data = data;
    size_t length = respond(parse_p9_write_header(header, data_bytes), reply);
    m_write_data = {};
    return length;
}

P9Handler::ReadReply ShareServer::handle_read(
    std::span<uint8_t const> request, std::span<iovec const> data, uint64_t data_bytes, std::span<uint8_t> reply)
{
    m_read_data = data;
    m_read_room = data_bytes;
    m_read_into_guest = 0;
    ReadReply result;
    result.header_length = respond(parse_p9_request(request), reply);
    m_read_data = {};
    // read() ran and answered with an Rread: its size field counts the data beside the header.
    if (m_read_into_guest != 0 && result.header_length == rread_header_size && reply[4] == message::reply_to(message::tread)) {
        WireWriter(reply.first(4)).u32(static_cast<uint32_t>(rread_header_size + m_read_into_guest));
        result.data_bytes = m_read_into_guest;
    }
    return result;
}

size_t ShareServer::respond(ParsedRequest const& parsed, std::span<uint8_t> reply)
{
    ReplyWriter out(reply.first(std::min<size_t>(reply.size(), m_msize)));
    if (!parsed.request) {
        if (!parsed.tag)
            return 0;
        return out.error(*parsed.tag, parsed.error);
    }
    auto const& request = *parsed.request;
    out.begin(message::reply_to(request.type), request.tag);
    if (int error = serve(request, out); error != 0)
        return out.error(request.tag, error);
    return out.finish();
}

int ShareServer::serve(Request const& request, ReplyWriter& out)
{
    bool ro = m_root.read_only();
    return std::visit(
        [&](auto const& body) -> int {
            using T = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<T, Tversion>)
                return version(body, out, request.tag);
            else if constexpr (std::is_same_v<T, Tattach>)
                return attach(body, out);
            else if constexpr (std::is_same_v<T, Tflush>)
                return 0; // requests are served synchronously: nothing is ever in flight
            else if constexpr (std::is_same_v<T, Twalk>)
                return walk(body, out);
            else if constexpr (std::is_same_v<T, Tclunk>)
                return clunk(body.fid);
            else if constexpr (std::is_same_v<T, Tstatfs>)
                return statfs(body, out);
            else if constexpr (std::is_same_v<T, Tgetattr>)
                return getattr(body, out);
            else if constexpr (std::is_same_v<T, Treadlink>)
                return readlink(body, out);
            else if constexpr (std::is_same_v<T, Tlopen>)
                return lopen(body, out);
            else if constexpr (std::is_same_v<T, Tread>)
                return read(body, out);
            else if constexpr (std::is_same_v<T, Treaddir>)
                return readdir(body, out);
            else if constexpr (std::is_same_v<T, Tfsync>)
                return fsync(body);
            else if constexpr (std::is_same_v<T, Tlock>) {
                // Advisory locks stay inside the guest's kernel: granted here, never taken on
                // the host (docs/sharing.md).
                out.writer().u8(lock::status_success);
                return 0;
            } else if constexpr (std::is_same_v<T, Tgetlock>) {
                out.writer().u8(lock::type_unlocked);
                out.writer().u64(body.start);
                out.writer().u64(body.length);
                out.writer().u32(body.proc_id);
                out.writer().string(body.client_id);
                return 0;
            } else if constexpr (std::is_same_v<T,
                                     Tauth> || std::is_same_v<T, Txattrwalk> || std::is_same_v<T, Txattrcreate>) {
                return EOPNOTSUPP; // no authentication; extended attributes are not shared
            } else if constexpr (std::is_same_v<T, Tmknod>) {
                return ro ? EROFS : EPERM; // no device nodes, FIFOs or sockets in a share
            } else if (ro) {
                return EROFS; // everything below modifies the share
            } else if constexpr (std::is_same_v<T, Twrite>)
                return write(body, out);
            else if constexpr (std::is_same_v<T, Tlcreate>)
                return lcreate(body, out);
            else if constexpr (std::is_same_v<T, Tmkdir>)
                return mkdir(body, out);
            else if constexpr (std::is_same_v<T, Tsymlink>)
                return symlink(body, out);
            else if constexpr (std::is_same_v<T, Tlink>)
                return link(body);
            else if constexpr (std::is_same_v<T, Trenameat>)
                return renameat(body);
            else if constexpr (std::is_same_v<T, Trename>)
                return rename(body);
            else if constexpr (std::is_same_v<T, Tunlinkat>)
                return unlinkat(body);
            else if constexpr (std::is_same_v<T, Tremove>)
                return remove(body);
            else if constexpr (std::is_same_v<T, Tsetattr>)
                return setattr(body);
            else
                return EOPNOTSUPP;
        },
        request.body);
}

int ShareServer::version(Tversion const& request, ReplyWriter& out, uint16_t tag)
{
    // A new session: every fid of the old one is gone (also what a guest reboot looks like).
    m_fids.clear();
    if (tag != no_tag || request.msize < min_msize)
        return EINVAL;
    m_msize = std::min(request.msize, max_msize);
    out.writer().u32(m_msize);
    out.writer().string(request.version == protocol_version ? protocol_version : "unknown");
    return 0;
}

int ShareServer::attach(Tattach const& request, ReplyWriter& out)
{
    if (request.afid != no_fid)
        return EOPNOTSUPP;
    if (m_fids.contains(request.fid))
        return EEXIST;
    if (m_fids.size() >= max_fids)
        return ENFILE;
    ShareFid root;
    // Linux attaches once per guest user (access=client, 9P2000.L's default) and names it here.
    root.uid = request.n_uname == no_uid ? overflow_uid : request.n_uname;
    int fd = m_root.resolve("", O_PATH | O_DIRECTORY);
    if (fd < 0)
        return -fd;
    Fd owned(fd);
    struct stat st { };
    if (::fstat(fd, &st) != 0)
        return errno;
    root.qid = share_qid(st);
    out.writer().qid(root.qid);
    m_fids.emplace(request.fid, std::move(root));
    return 0;
}

int ShareServer::walk(Twalk const& request, ReplyWriter& out)
{
    auto* from = find(request.fid);
    if (!from)
        return EBADF;
    if (from->is_open)
        return EBADF; // 9P: an open fid cannot be walked
    if (request.newfid != request.fid && m_fids.contains(request.newfid))
        return EEXIST;
    if (request.newfid != request.fid && m_fids.size() >= max_fids)
        return ENFILE;
    std::string path = from->path;
    Qid qid = from->qid;
    std::vector<Qid> qids;
    int error = 0;
    for (auto name : request.names) {
        std::string next;
        if (name == "..") {
            next = std::string(share_parent_path(path));
        } else if (int bad = check_share_name(name); bad != 0) {
            error = -bad;
            break;
        } else {
            next = join_share_path(path, name);
        }
        int fd = m_root.resolve(next, O_PATH);
        if (fd < 0) {
            error = -fd;
            break;
        }
        Fd owned(fd);
        struct stat st { };
        if (::fstat(fd, &st) != 0) {
            error = errno;
            break;
        }
        path = std::move(next);
        qid = share_qid(st);
        qids.push_back(qid);
    }
    // The first name failing is an error; a later one ends the walk early with the qids so far
    // (and no new fid), as 9P specifies.
    if (qids.empty() && !request.names.empty())
        return error;
    out.writer().u16(static_cast<uint16_t>(qids.size()));
    for (auto const& each : qids)
        out.writer().qid(each);
    if (qids.size() == request.names.size()) {
        ShareFid walked;
        walked.uid = from->uid;
        walked.path = std::move(path);
        walked.qid = qid;
        m_fids.insert_or_assign(request.newfid, std::move(walked));
    }
    return 0;
}

int ShareServer::clunk(uint32_t fid) { return m_fids.erase(fid) ? 0 : EBADF; }

int ShareServer::statfs(Tstatfs const& request, ReplyWriter& out)
{
    auto* fid = find(request.fid);
    if (!fid)
        return EBADF;
    int fd = path_fd(*fid);
    if (fd < 0)
        return -fd;
    Fd owned(fd);
    struct statfs st { };
    if (::fstatfs(fd, &st) != 0)
        return errno;
    auto& w = out.writer();
    w.u32(static_cast<uint32_t>(st.f_type));
    w.u32(static_cast<uint32_t>(st.f_bsize));
    w.u64(st.f_blocks);
    w.u64(st.f_bfree);
    w.u64(st.f_bavail);
    w.u64(st.f_files);
    w.u64(st.f_ffree);
    uint64_t fsid = 0;
    static_assert(sizeof(st.f_fsid) == sizeof fsid);
    std::memcpy(&fsid, &st.f_fsid, sizeof fsid);
    w.u64(fsid);
    w.u32(static_cast<uint32_t>(st.f_namelen));
    return 0;
}

int ShareServer::getattr(Tgetattr const& request, ReplyWriter& out)
{
    auto* fid = find(request.fid);
    if (!fid)
        return EBADF;
    struct stat st { };
    if (fid->is_open) {
        // The open file itself: still answers after it was unlinked or renamed.
        if (::fstat(fid->open_file.get(), &st) != 0)
            return errno;
    } else {
        int fd = path_fd(*fid);
        if (fd < 0)
            return -fd;
        Fd owned(fd);
        if (::fstat(fd, &st) != 0)
            return errno;
    }
    auto& w = out.writer();
    w.u64(getattr::basic);
    w.qid(share_qid(st));
    w.u32(st.st_mode);
    w.u32(st.st_uid);
    w.u32(st.st_gid);
    w.u64(st.st_nlink);
    w.u64(st.st_rdev);
    w.u64(static_cast<uint64_t>(st.st_size));
    w.u64(static_cast<uint64_t>(st.st_blksize));
    w.u64(static_cast<uint64_t>(st.st_blocks));
    w.u64(static_cast<uint64_t>(st.st_atim.tv_sec));
    w.u64(static_cast<uint64_t>(st.st_atim.tv_nsec));
    w.u64(static_cast<uint64_t>(st.st_mtim.tv_sec));
    w.u64(static_cast<uint64_t>(st.st_mtim.tv_nsec));
    w.u64(static_cast<uint64_t>(st.st_ctim.tv_sec));
    w.u64(static_cast<uint64_t>(st.st_ctim.tv_nsec));
    for (int i = 0; i < 4; ++i)
        w.u64(0); // btime (sec, nsec), gen, data_version: not offered (valid mask is basic)
    return 0;
}

int ShareServer::readlink(Treadlink const& request, ReplyWriter& out)
{
    auto* fid = find(request.fid);
    if (!fid)
        return EBADF;
    int fd = path_fd(*fid);
    if (fd < 0)
        return -fd;
    Fd owned(fd);
    char target[max_symlink_target + 1];
    // The link's text only: it is handed to the guest, never resolved here.
    ssize_t length = ::readlinkat(fd, "", target, sizeof target);
    if (length < 0)
        return errno == ENOENT ? EINVAL : errno; // "" on a non-symlink O_PATH fd: not a link
    if (static_cast<size_t>(length) > max_symlink_target)
        return ENAMETOOLONG;
    out.writer().string({ target, static_cast<size_t>(length) });
    return 0;
}

ShareFid* ShareServer::find(uint32_t fid)
{
    auto found = m_fids.find(fid);
    return found == m_fids.end() ? nullptr : &found->second;
}

int ShareServer::path_fd(ShareFid const& fid) const { return m_root.resolve(fid.path, O_PATH); }

int ShareServer::directory_fd(ShareFid const& fid) const
{
    if (fid.qid.type != qid_type::directory)
        return -ENOTDIR;
    return m_root.resolve(fid.path, O_PATH | O_DIRECTORY);
}

void ShareServer::rename_fids(std::string const& from, std::string const& to)
{
    for (auto& [number, fid] : m_fids) {
        if (fid.path == from)
            fid.path = to;
        else if (fid.path.size() > from.size() && fid.path.starts_with(from) && fid.path[from.size()] == '/')
            fid.path = to + fid.path.substr(from.size());
    }
}

} // namespace husk
