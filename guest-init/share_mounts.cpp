// husk.mount= parsing and the 9p mounts.
#include "guest-init/share_mounts.hpp"

#include "guest-init/protocol/share_names.hpp"

#include <cerrno>
#include <sys/mount.h>
#include <sys/stat.h>

namespace husk::init {

namespace {
    Result<void> make_directories(std::string const& path)
    {
        for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
            std::string prefix = path.substr(0, slash);
            if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
                return fail_errno("mkdir " + prefix);
            if (slash == std::string::npos)
                return {};
        }
    }
} // namespace

Result<ShareMount> parse_share_mount(std::string_view value)
{
    auto problem = [&](std::string_view what) {
        return fail(std::string(share_mount_parameter) + "=" + printable_value(value) + ": " + std::string(what)
            + " (expected TAG:/guest/path[:ro])");
    };
    ShareMount share;
    auto colon = value.find(':');
    if (colon == std::string_view::npos)
        return problem("missing :/guest/path");
    share.tag = std::string(value.substr(0, colon));
    std::string_view path = value.substr(colon + 1);
    if (auto flag = path.rfind(':'); flag != std::string_view::npos) {
        auto word = path.substr(flag + 1);
        if (word != "ro" && word != "rw")
            return problem("unknown flag (ro or rw)");
        share.read_only = word == "ro";
        path = path.substr(0, flag);
    }
    if (!protocol::is_valid_share_tag(share.tag))
        return problem("TAG must be 1 to 32 letters, digits, _ or -");
    if (auto why = protocol::guest_mount_path_problem(path); !why.empty())
        return problem(why);
    share.path = std::string(path);
    return share;
}

Result<std::vector<ShareMount>> share_mounts(KernelCmdline const& cmdline)
{
    std::vector<ShareMount> mounts;
    for (auto const& parameter : cmdline.parameters) {
        if (parameter.name != share_mount_parameter)
            continue;
        if (!parameter.value)
            return fail(std::string(share_mount_parameter) + " needs a value (TAG:/guest/path[:ro])");
        mounts.push_back(TRY(parse_share_mount(*parameter.value)));
    }
    return mounts;
}

Result<void> mount_share(ShareMount const& share)
{
    TRY(make_directories(share.path));
    unsigned long flags = MS_NOSUID | MS_NODEV | (share.read_only ? MS_RDONLY : 0);
    char const* options = share.read_only ? share_mount_options_read_only : share_mount_options_writable;
    if (::mount(share.tag.c_str(), share.path.c_str(), "9p", flags, options) != 0)
        return fail_errno("mount of share " + share.tag + " on " + share.path);
    return {};
}

} // namespace husk::init
