// ShareServer: the 9P2000.L file server behind a virtio-9p device, serving one ShareRoot to a
// guest that is assumed hostile (docs/sharing.md).
//
// Fids name paths relative to the share root, never host paths; every operation resolves them
// again through ShareRoot's confined lookups, so a rename or symlink swap between two requests
// can only ever make a fid name something else inside the share. Names the guest sends are
// single components (check_share_name); ".." is only understood by Twalk, lexically, and stops
// at the root. Only directories and regular files can be opened; symlinks are read with
// Treadlink and never followed; device nodes, FIFOs and sockets are visible but refused
// (EPERM) and cannot be created. A read-only share answers every modifying request with EROFS.
// Ownership (ShareRoot::ownership()): with ServerUser, files the guest creates belong to whoever
// runs the server; the guest's uid/gid fields are ignored (chown is accepted and does nothing, as
// QEMU's security_model=none does), set-user-ID and set-group-ID bits are dropped from every mode
// the guest sets. With Guest, a new file gets the uid its fid was attached as (Tattach's n_uname:
// Linux attaches once per guest user) and the gid of the request, chown and every mode bit are
// applied, and a write by a guest user other than root clears set-user-ID (and set-group-ID with
// group execute) as the kernel does: the server's CAP_FSETID would keep them.
//
// Requests are served synchronously, one at a time, on the calling (event) thread.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"
#include "runtime/share/share_root.hpp"
#include "runtime/share/share_session.hpp"
#include "virtio/p9/p9_handler.hpp"
#include "virtio/p9/p9_reply.hpp"
#include "virtio/p9/p9_request.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace husk {

struct ShareFid {
    std::string path; // relative to the share root; "" is the root
    uint32_t uid { 0 }; // the guest user it was attached as (ShareOwnership::Guest's new files)
    p9::Qid qid;
    Fd open_file; // after Tlopen / Tlcreate
    bool is_open { false };
    bool writable { false }; // opened for writing
};

class ShareServer final : public P9Handler {
public:
    // msize ceiling: Linux 6.1's virtio transport caps itself at 500 KiB (512000 bytes).
    static constexpr uint32_t max_msize = 1u << 20;
    // Fids one guest may hold (each is a small struct; open ones also hold a descriptor).
    static constexpr size_t max_fids = 1u << 20;

    explicit ShareServer(ShareRoot root);

    uint32_t max_message_size() const override { return max_msize; }
    size_t handle(std::span<uint8_t const> request, std::span<uint8_t> reply) override;
    size_t handle_write(std::span<uint8_t const> header, std::span<iovec const> data, uint64_t data_bytes,
        std::span<uint8_t> reply) override;
    ReadReply handle_read(std::span<uint8_t const> request, std::span<iovec const> data, uint64_t data_bytes,
        std::span<uint8_t> reply) override;

    size_t fid_count() const { return m_fids.size(); }
    ShareRoot& root() { return m_root; }
    uint32_t negotiated_msize() const { return m_msize; }

    // Snapshots (share_server_session.cpp), on the serving thread with no request in flight.
    // The session by fid paths; fails for an open fid whose file was deleted or moved out of
    // the share.
    Result<ShareSession> save_session() const;
    // Takes `session` over, replacing any fids: each resolved again beneath this share's root
    // under the confinement of a walk, open ones reopened with their flags. Fails naming the
    // first fid that cannot be.
    Result<void> restore_session(ShareSession const& session);

private:
    // Each handler writes its reply into `out` (already begun) and returns 0, or returns an
    // errno for Rlerror.
    int serve(p9::Request const& request, p9::ReplyWriter& out);
    size_t respond(p9::ParsedRequest const& parsed, std::span<uint8_t> reply);

    int version(p9::Tversion const&, p9::ReplyWriter&, uint16_t tag);
    int attach(p9::Tattach const&, p9::ReplyWriter&);
    int walk(p9::Twalk const&, p9::ReplyWriter&);
    int clunk(uint32_t fid);
    int statfs(p9::Tstatfs const&, p9::ReplyWriter&);
    int getattr(p9::Tgetattr const&, p9::ReplyWriter&);
    int readlink(p9::Treadlink const&, p9::ReplyWriter&);
    // share_server_files.cpp
    int lopen(p9::Tlopen const&, p9::ReplyWriter&);
    int lcreate(p9::Tlcreate const&, p9::ReplyWriter&);
    int read(p9::Tread const&, p9::ReplyWriter&);
    int read_into_guest(ShareFid const& fid, p9::Tread const& request, p9::ReplyWriter& out);
    int write(p9::Twrite const&, p9::ReplyWriter&);
    int readdir(p9::Treaddir const&, p9::ReplyWriter&);
    int fsync(p9::Tfsync const&);
    // share_server_changes.cpp
    int mkdir(p9::Tmkdir const&, p9::ReplyWriter&);
    int symlink(p9::Tsymlink const&, p9::ReplyWriter&);
    int link(p9::Tlink const&);
    int renameat(p9::Trenameat const&);
    int rename(p9::Trename const&);
    int unlinkat(p9::Tunlinkat const&);
    int remove(p9::Tremove const&);
    int setattr(p9::Tsetattr const&);

    ShareFid* find(uint32_t fid);
    // An O_PATH descriptor of the fid's file (not following a trailing symlink), or -errno.
    int path_fd(ShareFid const& fid) const;
    // The fid's directory opened O_PATH, for *at calls with a checked name; -errno if the fid is
    // not a directory.
    int directory_fd(ShareFid const& fid) const;
    bool guest_owned() const { return m_root.ownership() == ShareOwnership::Guest; }
    // The permission bits the guest may set: all twelve for guest-owned shares, no set-ID bits
    // otherwise.
    mode_t guest_mode(uint32_t mode) const;
    // Guest-owned shares: gives the file `fd` (any kind, O_PATH is enough) just created with
    // `mode` to uid:gid and then sets `mode` exactly (the chown clears set-ID bits, and the
    // create applied the server's umask). 0 or an errno.
    int give_to_guest(int fd, uint32_t uid, uint32_t gid, uint32_t mode) const;
    // give_to_guest for `name`, just created in the directory `parent` by a request on it: owned
    // by the user `parent` was attached as. On failure the new entry is removed again
    // (`unlink_flags`: AT_REMOVEDIR for a directory), so no file is left with the server's owner.
    int give_created_to_guest(
        ShareFid const& parent, std::string_view name, uint32_t gid, uint32_t mode, int unlink_flags) const;
    // Guest-owned shares: after a write through `fid`, what the kernel's file_remove_privs does
    // for a writer without CAP_FSETID (any guest user but root). 0 or an errno.
    int drop_set_id_after_write(ShareFid const& fid) const;
    // The path of the file an open fid holds (share_server_session.cpp): its own path while that
    // names the same inode, else where /proc/self/fd says the inode is now within the share.
    Result<std::string> open_fid_path(uint32_t number, ShareFid const& fid) const;
    Result<ShareFid> restore_fid(SavedShareFid const& saved) const;
    // Moves every fid at or below `from` to the same place below `to`, after a rename.
    void rename_fids(std::string const& from, std::string const& to);

    ShareRoot m_root;
    uint32_t m_msize { max_msize };
    std::unordered_map<uint32_t, ShareFid> m_fids;
    std::vector<uint8_t> m_dirents; // getdents64 buffer, reused
    std::span<iovec const> m_write_data; // handle_write's guest buffers, while it serves
    std::span<iovec const> m_read_data; // handle_read's guest buffers, while it serves
    uint64_t m_read_room { 0 }; // their total
    uint64_t m_read_into_guest { 0 }; // what read() put there
    std::vector<iovec> m_read_vectors; // m_read_data cut to the bytes asked for, reused
};

// The qid of a file with `st`: its inode number as path, the type bits, and a version that
// changes with mtime and size so a caching client notices changes.
p9::Qid share_qid(struct stat const& st);

} // namespace husk
