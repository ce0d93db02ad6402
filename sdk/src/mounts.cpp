// Checks and husk-vmm arguments of SandboxOptions::mounts. The guest-path rules are the ones
// husk-init enforces (guest-init/share_mounts.cpp), checked here first so a mistake is a clear
// BadConfig instead of a guest that fails to boot.
#include "sdk/src/mounts.hpp"

#include <string_view>

namespace husk::detail {

namespace {
    Unexpected<Error> bad(Mount const& mount, std::string const& why)
    {
        return unexpected(Error { "mount " + mount.host + " -> " + mount.guest + ": " + why, 0, ErrorKind::BadConfig });
    }

    std::string_view guest_path_problem(std::string_view path)
    {
        if (path.empty() || path.front() != '/')
            return "the guest path must be absolute";
        if (path.size() > 255)
            return "the guest path is longer than 255 bytes";
        if (path.find_first_of(std::string_view(": \t\n\"\0", 6)) != std::string_view::npos)
            return "the guest path cannot hold ':', blanks, quotes or NUL";
        if (path == "/")
            return "the guest path cannot be /";
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
} // namespace

Result<void> check_mounts(std::vector<Mount> const& mounts)
{
    if (mounts.size() > max_mounts)
        return unexpected(
            Error { "at most " + std::to_string(max_mounts) + " mounts, not " + std::to_string(mounts.size()), 0,
                ErrorKind::BadConfig });
    for (size_t i = 0; i < mounts.size(); ++i) {
        auto const& mount = mounts[i];
        if (mount.host.empty() || mount.host.front() != '/')
            return bad(mount, "the host path must be absolute");
        if (mount.host.find('\0') != std::string::npos)
            return bad(mount, "the host path holds a NUL byte");
        if (auto why = guest_path_problem(mount.guest); !why.empty())
            return bad(mount, std::string(why));
        for (size_t j = 0; j < i; ++j) {
            if (mounts[j].guest == mount.guest)
                return bad(mount, "another mount already uses this guest path");
        }
    }
    return {};
}

void append_mount_arguments(
    std::vector<Mount> const& mounts, std::vector<std::string>& argv, std::vector<std::string>& cmdline_words)
{
    for (size_t i = 0; i < mounts.size(); ++i) {
        std::string tag = "m" + std::to_string(i);
        argv.push_back("--share");
        argv.push_back(mounts[i].host + ":" + tag + (mounts[i].read_only ? ",ro" : ""));
        cmdline_words.push_back("husk.mount=" + tag + ":" + mounts[i].guest + (mounts[i].read_only ? ":ro" : ""));
    }
}

} // namespace husk::detail
