// The event thread's extra rules when the VM has shares: the confined 9P server (runtime/share/)
// runs its file system calls synchronously on that thread. They are added only for VMs with
// shares, and opening is pinned to the descriptors opened at start: openat2 only beneath a
// share's root (ShareRoot::resolve; the RESOLVE_* flags live in a struct seccomp cannot read),
// openat only in /proc/self/fd (ShareRoot::reopen of a descriptor already checked). No other
// directory can be opened from, so no absolute or cwd-relative path. Twrite's pwritev and the
// zero-copy Tread's preadv are already the event thread's (virtio-blk's fallback), so they are
// not listed here. Guest-owned shares
// (ShareOwnership::Guest) add fchownat on descriptors only.
#include "runtime/jail/allow_lists.hpp"

#include <fcntl.h>

namespace husk {

std::vector<SyscallRule> file_sharing_rules(
    std::span<int const> share_roots, std::span<int const> proc_fd_directories, FileSharingOwners owners)
{
    std::vector<ArgMatch> beneath_a_root;
    for (int fd : share_roots)
        beneath_a_root.push_back(arg_equals_32(0, static_cast<uint32_t>(fd)));
    std::vector<ArgMatch> in_proc_fd;
    for (int fd : proc_fd_directories)
        in_proc_fd.push_back(arg_equals_32(0, static_cast<uint32_t>(fd)));
    std::vector<SyscallRule> rules {
        { "openat2", "file sharing: every guest-named path, beneath a share root only", beneath_a_root },
        { "openat", "file sharing: reopen a checked O_PATH fd through /proc/self/fd only", in_proc_fd },
        { "fstatfs", "file sharing: Tstatfs", {} },
        { "getdents64", "file sharing: Treaddir", {} },
        { "lseek", "file sharing: Treaddir continues at the client's directory offset", {} },
        { "pread64", "file sharing: Tread", {} },
        { "ftruncate", "file sharing: Tsetattr of the size", {} },
        { "fsync", "file sharing: Tfsync", {} },
        { "mkdirat", "file sharing: Tmkdir", {} },
        { "symlinkat", "file sharing: Tsymlink (the text is stored, never followed)", {} },
        { "linkat", "file sharing: Tlink of a fid's own descriptor", {} },
        { "renameat", "file sharing: Trenameat, Trename", {} },
        { "unlinkat", "file sharing: Tunlinkat, Tremove", {} },
        { "readlinkat",
            "file sharing: Treadlink (the text only; never followed); a snapshot reads /proc/self/fd/N to find an "
            "open fid's file the host renamed",
            {} },
        { "fchmodat", "file sharing: Tsetattr of the mode", {} },
        { "utimensat", "file sharing: Tsetattr of the times", {} },
    };
    if (owners == FileSharingOwners::Guest) {
        // Only on a descriptor (AT_EMPTY_PATH), never by a path the guest named.
        rules.push_back({ "fchownat", "guest-owned shares: the owner of new files, Tsetattr of uid/gid",
            { arg_equals_32(4, AT_EMPTY_PATH) } });
    }
    return rules;
}

} // namespace husk
