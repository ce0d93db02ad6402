// parse_share_option: HOSTDIR:TAG[,ro|,rw][,guest-owners].
#include "runtime/main/share_option.hpp"

#include "runtime/jail/precompiled_seccomp.hpp"

namespace husk {

// The event thread's seccomp programs for VMs with shares are compiled at build time, one per
// number of shares up to this limit: a VM with more would have none.
static_assert(max_shares <= max_precompiled_shares, "raise max_precompiled_shares with max_shares");

bool is_valid_share_tag(std::string_view tag) { return protocol::is_valid_share_tag(tag); }

Result<ShareOption> parse_share_option(std::string_view text)
{
    auto problem = [&](std::string const& what) {
        return fail("--share " + std::string(text) + ": " + what + " (expected HOSTDIR:TAG[,ro][,guest-owners])");
    };
    if (text.find('\0') != std::string_view::npos)
        return fail("--share value contains a NUL byte");
    ShareOption share;
    // TAG holds no ':' or ',', so the last ':' ends HOSTDIR and the flags follow TAG.
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return problem("missing :TAG");
    auto path = text.substr(0, colon);
    auto rest = text.substr(colon + 1);
    auto comma = rest.find(',');
    auto tag = rest.substr(0, comma);
    bool access_given = false;
    while (comma != std::string_view::npos) {
        rest = rest.substr(comma + 1);
        comma = rest.find(',');
        auto flag = rest.substr(0, comma);
        if ((flag == "ro" || flag == "rw") && !access_given) {
            share.read_only = flag == "ro";
            access_given = true;
        } else if (flag == guest_owners_flag && share.ownership == ShareOwnership::ServerUser) {
            share.ownership = ShareOwnership::Guest;
        } else {
            return problem("unknown or repeated flag '" + std::string(flag) + "' (ro, rw, guest-owners)");
        }
    }
    if (path.empty() || path.front() != '/')
        return problem("HOSTDIR must be an absolute path");
    if (!is_valid_share_tag(tag))
        return problem("TAG must be 1 to " + std::to_string(max_share_tag_length) + " letters, digits, _ or -");
    share.host_path = std::string(path);
    share.tag = std::string(tag);
    return share;
}

} // namespace husk
