// The names a host directory share travels under, checked the same way on both sides: the tag
// husk-vmm serves it by (`--share HOSTDIR:TAG`, `--rootfs`) and husk-init mounts it by
// (`husk.mount=TAG:/path`, `husk.root=9p:TAG`), and the guest path it is mounted on. The SDK
// checks first, so a mistake is a clear BadConfig on the host; husk-init checks again, because
// the kernel command line is input like any other. Header-only, shared by guest and host.
#pragma once

#include <cstddef>
#include <string_view>

namespace husk::protocol {

inline constexpr size_t max_share_tag_length = 32;
inline constexpr size_t max_guest_mount_path_length = 255;

// 1..32 bytes of [A-Za-z0-9_-].
constexpr bool is_valid_share_tag(std::string_view tag)
{
    if (tag.empty() || tag.size() > max_share_tag_length)
        return false;
    for (char c : tag) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

// Why `path` cannot be a mount point for a share, or an empty view when it can: absolute, at most
// 255 bytes, no ':' (the separator of husk.mount=), blank, quote or NUL (the kernel command line
// cannot carry them), no empty, "." or ".." component, and not "/" or inside /proc, /sys or /dev
// (the guest's own kernel interfaces).
constexpr std::string_view guest_mount_path_problem(std::string_view path)
{
    if (path.empty() || path.front() != '/')
        return "the guest path must be absolute";
    if (path.size() > max_guest_mount_path_length)
        return "the guest path is longer than 255 bytes";
    if (path.find_first_of(std::string_view(": \t\n\"\0", 6)) != std::string_view::npos)
        return "the guest path cannot hold ':', blanks, quotes or NUL";
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

} // namespace husk::protocol
