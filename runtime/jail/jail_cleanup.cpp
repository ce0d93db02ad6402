// remove_jail_directory: recursive removal relative to descriptors, no symlink followed, no
// mount crossed.
#include "runtime/jail/jail_root.hpp"

#include "runtime/jail/jail_path.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <optional>
#include <string_view>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace husk {

namespace {
    constexpr int max_depth = 16; // deeper than any jail layout husk creates

    // Which mount a file is on. st_dev cannot tell: on overlayfs a directory and the files in it
    // report different devices (the upper or lower filesystem's) with no mount in between, so
    // mount ids decide where the kernel has them (Linux 5.8+), devices elsewhere.
    struct Placement {
        mode_t mode { 0 };
        std::optional<uint64_t> mount;
        dev_t device { 0 };
        bool same_mount_as(Placement const& other) const
        {
            if (mount && other.mount)
                return *mount == *other.mount;
            return device == other.device;
        }
    };

    Result<Placement> placement_of(int directory, char const* name, std::string const& shown)
    {
        struct statx info { };
        int flags = AT_SYMLINK_NOFOLLOW | (name[0] == '\0' ? AT_EMPTY_PATH : 0);
        if (::statx(directory, name, flags, STATX_TYPE | STATX_MNT_ID, &info) != 0)
            return fail_errno("stat of \"" + shown + "\"");
        Placement placement;
        placement.mode = info.stx_mode;
        if (info.stx_mask & STATX_MNT_ID)
            placement.mount = info.stx_mnt_id;
        placement.device = makedev(info.stx_dev_major, info.stx_dev_minor);
        return placement;
    }

    Result<void> empty_directory(int directory, Placement const& root, int depth, std::string const& shown)
    {
        if (depth > max_depth)
            return fail("\"" + shown + "\" is nested deeper than a jail can be");
        int listing_fd = ::openat(directory, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (listing_fd < 0)
            return fail_errno("listing \"" + shown + "\"");
        DIR* listing = ::fdopendir(listing_fd);
        if (listing == nullptr) {
            ::close(listing_fd);
            return fail_errno("listing \"" + shown + "\"");
        }
        Result<void> outcome;
        while (auto* entry = ::readdir(listing)) {
            std::string_view name = entry->d_name;
            if (name == "." || name == "..")
                continue;
            std::string child = shown + "/" + std::string(name);
            auto placement = placement_of(directory, entry->d_name, child);
            if (!placement) {
                outcome = unexpected(std::move(placement).error());
                break;
            }
            if (!placement->same_mount_as(root)) {
                outcome = fail("\"" + child + "\" is on another mount (still mounted?); not removing it");
                break;
            }
            bool is_directory = S_ISDIR(placement->mode);
            if (is_directory) {
                int sub = ::openat(directory, entry->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) {
                    outcome = fail_errno("opening \"" + child + "\"");
                    break;
                }
                Fd sub_fd(sub);
                if (outcome = empty_directory(sub_fd.get(), root, depth + 1, child); !outcome)
                    break;
            }
            if (::unlinkat(directory, entry->d_name, is_directory ? AT_REMOVEDIR : 0) != 0) {
                outcome = fail_errno("removing \"" + child + "\"");
                break;
            }
        }
        ::closedir(listing);
        return outcome;
    }
} // namespace

Result<void> remove_jail_directory(std::string const& parent_directory, std::string const& vm_id)
{
    TRY(validate_vm_id(vm_id));
    auto parent = TRY_CONTEXT(
        Fd::open(parent_directory, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), "the jail parent directory");
    std::string path = parent_directory + "/" + vm_id;
    int root = ::openat(parent.get(), vm_id.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (root < 0) {
        if (errno == ENOENT)
            return {};
        return fail_errno("opening the jail root \"" + path + "\" (symlinks are refused)");
    }
    Fd root_fd(root);
    auto parent_placement = TRY(placement_of(parent.get(), "", parent_directory));
    auto root_placement = TRY(placement_of(root_fd.get(), "", path));
    if (!root_placement.same_mount_as(parent_placement))
        return fail("the jail root \"" + path + "\" is still a mount point; not removing it");
    TRY(empty_directory(root_fd.get(), root_placement, 0, path));
    if (::unlinkat(parent.get(), vm_id.c_str(), AT_REMOVEDIR) != 0)
        return fail_errno("removing the jail root \"" + path + "\"");
    return {};
}

} // namespace husk
