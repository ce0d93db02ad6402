// remove_jail_directory: recursive removal relative to descriptors, no symlink followed, no
// mount crossed.
#include "runtime/jail/jail_root.hpp"

#include "runtime/jail/jail_path.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace husk {

namespace {
    constexpr int max_depth = 16; // deeper than any jail layout husk creates

    Result<void> empty_directory(int directory, dev_t device, int depth, std::string const& shown)
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
            struct stat child_stat { };
            if (::fstatat(directory, entry->d_name, &child_stat, AT_SYMLINK_NOFOLLOW) != 0) {
                outcome = fail_errno("stat of \"" + child + "\"");
                break;
            }
            if (child_stat.st_dev != device) {
                outcome = fail("\"" + child + "\" is on another filesystem (still mounted?); not removing it");
                break;
            }
            if (S_ISDIR(child_stat.st_mode)) {
                int sub = ::openat(directory, entry->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) {
                    outcome = fail_errno("opening \"" + child + "\"");
                    break;
                }
                Fd sub_fd(sub);
                if (outcome = empty_directory(sub_fd.get(), device, depth + 1, child); !outcome)
                    break;
            }
            if (::unlinkat(directory, entry->d_name, S_ISDIR(child_stat.st_mode) ? AT_REMOVEDIR : 0) != 0) {
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
    struct stat parent_stat {
    }, root_stat {};
    if (::fstat(parent.get(), &parent_stat) != 0 || ::fstat(root_fd.get(), &root_stat) != 0)
        return fail_errno("stat of the jail root \"" + path + "\"");
    if (root_stat.st_dev != parent_stat.st_dev)
        return fail("the jail root \"" + path + "\" is still a mount point; not removing it");
    TRY(empty_directory(root_fd.get(), root_stat.st_dev, 0, path));
    if (::unlinkat(parent.get(), vm_id.c_str(), AT_REMOVEDIR) != 0)
        return fail_errno("removing the jail root \"" + path + "\"");
    return {};
}

} // namespace husk
