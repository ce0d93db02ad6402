// Checks and husk-vmm arguments of SandboxOptions::mounts. The guest-path rules are the ones
// husk-init enforces (guest-init/protocol/share_names.hpp), checked here first so a mistake is a
// clear BadConfig instead of a guest that fails to boot.
#include "sdk/src/mounts.hpp"

#include "guest-init/protocol/share_names.hpp"

#include <string_view>

namespace husk::detail {

namespace {
    Unexpected<Error> bad(Mount const& mount, std::string const& why)
    {
        return unexpected(Error { "mount " + mount.host + " -> " + mount.guest + ": " + why, 0, ErrorKind::BadConfig });
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
        if (auto why = protocol::guest_mount_path_problem(mount.guest); !why.empty())
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
        argv.push_back(mounts[i].host + ":" + tag + (mounts[i].read_only ? ",ro" : "")
            + (mounts[i].owners == ShareOwners::Guest ? ",guest-owners" : ""));
        cmdline_words.push_back("husk.mount=" + tag + ":" + mounts[i].guest + (mounts[i].read_only ? ":ro" : ""));
    }
}

} // namespace husk::detail
