// parse_rootfs_option: DIR[,ro|,rw], and the share and boot parameter it turns into.
#include "runtime/main/rootfs_option.hpp"

namespace husk {

ShareOption RootfsOption::share() const
{
    return ShareOption { host_path, std::string(rootfs_share_tag), writes == RootfsWrites::PrivateOverlay };
}

std::string RootfsOption::kernel_argument() const
{
    return "husk.root=9p:" + std::string(rootfs_share_tag) + (writes == RootfsWrites::InPlace ? ":rw" : "");
}

Result<RootfsOption> parse_rootfs_option(std::string_view text)
{
    auto problem = [&](std::string const& what) {
        return fail("--rootfs " + std::string(text) + ": " + what + " (expected DIR or DIR,rw)");
    };
    if (text.find('\0') != std::string_view::npos)
        return fail("--rootfs value contains a NUL byte");
    RootfsOption rootfs;
    std::string_view path = text;
    // The last comma separates a flag; a directory whose name has a comma needs an explicit one.
    if (auto comma = path.rfind(','); comma != std::string_view::npos) {
        auto flag = path.substr(comma + 1);
        if (flag != "ro" && flag != "rw")
            return problem("unknown flag '" + std::string(flag) + "' (ro or rw)");
        rootfs.writes = flag == "rw" ? RootfsWrites::InPlace : RootfsWrites::PrivateOverlay;
        path = path.substr(0, comma);
    }
    if (path.empty() || path.front() != '/')
        return problem("DIR must be an absolute path");
    rootfs.host_path = std::string(path);
    return rootfs;
}

} // namespace husk
