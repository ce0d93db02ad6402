// husk-vmm's --rootfs value: `DIR[,ro|,rw][,guest-owners]`, a host directory the guest boots on as
// its root. husk-vmm serves it over virtio-9p like a --share under the reserved tag `rootfs` and
// puts `husk.root=9p:rootfs[:rw]` on the kernel command line; husk-init switches into it
// (guest-init/root_switch.hpp). Read-only (the default): the guest works on a private overlay in
// its RAM and the directory is never modified. `,rw`: the guest's writes go to the directory, as
// the user husk-vmm serves shares as, or with `,guest-owners` as the guest's own users (runc's
// semantics: container root writes root-owned files; needs --jail). Pure parsing, so every rejection is unit-tested;
// opening and checking the directory is ShareRoot's job.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/main/share_option.hpp"

#include <string>
#include <string_view>

namespace husk {

inline constexpr std::string_view rootfs_share_tag = "rootfs";

enum class RootfsWrites { PrivateOverlay, InPlace };

struct RootfsOption {
    std::string host_path; // absolute
    RootfsWrites writes { RootfsWrites::PrivateOverlay };
    ShareOwnership ownership { ShareOwnership::ServerUser };
    bool operator==(RootfsOption const&) const = default;

    // The share that carries it (read-only unless written in place).
    ShareOption share() const;
    // The word husk-init reads: husk.root=9p:rootfs or husk.root=9p:rootfs:rw.
    std::string kernel_argument() const;
};

Result<RootfsOption> parse_rootfs_option(std::string_view text);

} // namespace husk
