// husk.mount= parsing and the 9p mounts.
#include "guest-init/share_mounts.hpp"

#include <cerrno>
#include <sys/mount.h>
#include <sys/stat.h>

namespace husk::init {

namespace {
    bool valid_tag(std::string_view tag)
    {
        if (tag.empty() || tag.size() > 32)
            return false;
        for (char c : tag) {
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
                return false;
        }
        return true;
    }

    std::string_view valid_path_problem(std::string_view path)
    {
        if (path.empty() || path.front() != '/')
            return "the guest path must be absolute";
        if (path.size() > 255)
            return "the guest path is longer than 255 bytes";
        if (path.find_first_of(": \t\n\"") != std::string_view::npos)
            return "the guest path cannot hold ':', blanks or quotes";
        if (path == "/")
            return "the guest path cannot be / (use a directory below it)";
        for (std::string_view rest = path.substr(1);;) {
            auto slash = rest.find('/');
            auto component = rest.substr(0, slash);
            if (component.empty() || component == "." || component == "..")
                return "the guest path has an empty, . or .. component";
            if (slash == std::string_view::npos)
                break;
            rest = rest.substr(slash + 1);
        }
        for (std::string_view system : { "/proc", "/sys", "/dev" }) {
            if (path == system || (path.starts_with(system) && path[system.size()] == '/'))
                return "the guest path cannot be inside /proc, /sys or /dev";
        }
        return {};
    }

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
        return fail(std::string(share_mount_parameter) + "=" + std::string(value) + ": " + std::string(what)
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
    if (!valid_tag(share.tag))
        return problem("TAG must be 1 to 32 letters, digits, _ or -");
    if (auto why = valid_path_problem(path); !why.empty())
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
