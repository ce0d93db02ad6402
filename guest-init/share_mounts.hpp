// Host directories shared with the guest (virtio-9p, served by husk-vmm's --share): each
// `husk.mount=TAG:/guest/path[:ro]` boot parameter (repeatable) makes husk-init mount the
// device tagged TAG at /guest/path before the job starts, on the final root (after a disk root
// switch). The values come from the host, but are checked as strictly as anything else:
// TAG is 1..32 of [A-Za-z0-9_-]; the path is absolute, at most 255 bytes, has no ':', blank or
// quote, no empty, "." or ".." component and is not "/" or inside /proc, /sys or /dev.
#pragma once

#include "guest-init/kernel_cmdline.hpp"
#include "runtime/base/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace husk::init {

inline constexpr std::string_view share_mount_parameter = "husk.mount";
// 9p mount options: Linux 6.1's virtio transport caps msize at 500 KiB and says so when asked
// for more. A writable share uses cache=mmap: every write(2) reaches the host at once (6.1's
// cache=loose keeps dirty pages in the guest until writeback, so the host would read stale
// outputs after the job ended), mmap still works. A read-only share uses cache=loose: pages
// and attributes stay in the guest, which nothing can make stale but the host
// (docs/sharing.md).
inline constexpr char const* share_mount_options_writable = "trans=virtio,version=9p2000.L,msize=512000,cache=mmap";
inline constexpr char const* share_mount_options_read_only = "trans=virtio,version=9p2000.L,msize=512000,cache=loose";

struct ShareMount {
    std::string tag;
    std::string path;
    bool read_only { false };
    bool operator==(ShareMount const&) const = default;
};

// Every husk.mount= parameter, in order; an error names the first malformed one.
Result<std::vector<ShareMount>> share_mounts(KernelCmdline const& cmdline);
Result<ShareMount> parse_share_mount(std::string_view value);

// Creates the mount point (and its parents) and mounts the share, nosuid and nodev.
Result<void> mount_share(ShareMount const& share);

} // namespace husk::init
