// parse_rootfs_option: DIR[,ro|,rw][,guest-owners], and the share and boot parameter it turns into.
#include "runtime/main/rootfs_option.hpp"

namespace husk {

ShareOption RootfsOption::share() const
{
    return ShareOption { host_path, std::string(rootfs_share_tag), writes == RootfsWrites::PrivateOverlay, ownership };
}

std::string RootfsOption::kernel_argument() const
{
    return "husk.root=9p:" + std::string(rootfs_share_tag) + (writes == RootfsWrites::InPlace ? ":rw" : "");
}

Result<RootfsOption> parse_rootfs_option(std::string_view text)
{
    auto problem = [&](std::string const& what) {
        return fail("--rootfs " + std::string(text) + ": " + what + " (expected DIR or DIR,rw[,guest-owners])");
    };
    if (text.find('\0') != std::string_view::npos)
        return fail("--rootfs value contains a NUL byte");
    RootfsOption rootfs;
    std::string_view path = text;
    // The last comma separates a flag, and the one before it may too (the access, then
    // guest-owners); a directory whose name has a comma needs an explicit flag.
    bool access_given = false;
    for (int flags = 0; flags < 2; ++flags) {
        auto comma = path.rfind(',');
        if (comma == std::string_view::npos)
            break;
        auto flag = path.substr(comma + 1);
        if ((flag == "ro" || flag == "rw") && !access_given) {
            rootfs.writes = flag == "rw" ? RootfsWrites::InPlace : RootfsWrites::PrivateOverlay;
            access_given = true;
        } else if (flag == guest_owners_flag && rootfs.ownership == ShareOwnership::ServerUser) {
            rootfs.ownership = ShareOwnership::Guest;
        } else if (flags == 0) {
            return problem("unknown flag '" + std::string(flag) + "' (ro, rw, guest-owners)");
        } else if (flag == "ro" || flag == "rw" || flag == guest_owners_flag) {
            return problem("repeated flag '" + std::string(flag) + "'");
        } else {
            break; // part of the directory's name
        }
        path = path.substr(0, comma);
    }
    if (path.empty() || path.front() != '/')
        return problem("DIR must be an absolute path");
    rootfs.host_path = std::string(path);
    return rootfs;
}

} // namespace husk
