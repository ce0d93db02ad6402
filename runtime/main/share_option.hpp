// husk-vmm's --share value: `HOSTDIR:TAG[,ro|,rw][,guest-owners]`. Pure parsing,
// so every rejection is unit-tested; opening and checking the directory is ShareRoot's job.
// HOSTDIR must be absolute (it may contain ':' and ','; the tag and flag are split off the
// end). TAG is what the guest mounts by and what husk.mount= on the kernel command line names,
// so it is kept to 1..32 of [A-Za-z0-9_-]. `guest-owners`: files get the guest's uids and gids
// and guest root may change any file (ShareOwnership::Guest; needs --jail).
#pragma once

#include "guest-init/protocol/share_names.hpp"
#include "runtime/base/result.hpp"
#include "runtime/share/share_root.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace husk {

// Shares a VM may have: one virtio-mmio slot each, beside rng, vsock and up to 8 disks.
inline constexpr size_t max_shares = 8;
inline constexpr size_t max_share_tag_length = protocol::max_share_tag_length;

inline constexpr std::string_view guest_owners_flag = "guest-owners";

struct ShareOption {
    std::string host_path;
    std::string tag;
    bool read_only { false };
    ShareOwnership ownership { ShareOwnership::ServerUser };
    bool operator==(ShareOption const&) const = default;
};

Result<ShareOption> parse_share_option(std::string_view text);
// 1..max_share_tag_length bytes of [A-Za-z0-9_-]: the rule of guest-init/protocol/share_names.hpp,
// which husk-init applies to the tags it mounts.
bool is_valid_share_tag(std::string_view tag);

} // namespace husk
