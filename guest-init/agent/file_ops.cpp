// Stat, Mkdir and Remove. They run on the agent's event thread and are quick on the guest's
// filesystems; a recursive Remove of a huge tree holds the loop for its duration.
#include "guest-init/agent/file_ops.hpp"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace husk::agent {

using namespace protocol;

namespace {

    constexpr int64_t nanoseconds_per_second = 1'000'000'000;
    constexpr mode_t parent_directory_mode = 0755;
    // Each level of a recursive remove holds one directory fd; this bounds them well below the
    // agent's RLIMIT_NOFILE.
    constexpr int max_remove_depth = 256;

    FileKind file_kind(mode_t mode)
    {
        if (S_ISREG(mode))
            return FileKind::Regular;
        if (S_ISDIR(mode))
            return FileKind::Directory;
        if (S_ISLNK(mode))
            return FileKind::Symlink;
        return FileKind::Other;
    }

    // Creates `path` with exactly `mode`; EEXIST is returned for the caller to judge.
    int create_directory(std::string const& path, mode_t mode)
    {
        if (mkdir(path.c_str(), mode) < 0)
            return errno;
        // mkdir() applied the umask; chmod() sets the mode asked for (and the special bits).
        if (chmod(path.c_str(), mode) < 0)
            return errno;
        return 0;
    }

    // An existing path is fine for `mkdir -p` only if it is (or links to) a directory.
    int accept_existing_directory(std::string const& path)
    {
        struct stat info;
        if (stat(path.c_str(), &info) < 0)
            return errno;
        return S_ISDIR(info.st_mode) ? 0 : EEXIST;
    }

    int make_parents(std::string const& path)
    {
        for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
            if (path[slash - 1] == '/')
                continue; // "a//b": the empty component adds nothing
            auto parent = path.substr(0, slash);
            int error = create_directory(parent, parent_directory_mode);
            if (error == EEXIST)
                error = accept_existing_directory(parent) == 0 ? 0 : ENOTDIR;
            if (error != 0)
                return error;
        }
        return 0;
    }

    bool is_dot_or_dot_dot(char const* name) { return std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0; }

    // Removes the directory `name` in `parent_fd` and everything below it. Entries are listed
    // before any is deleted, so deleting never disturbs the directory stream.
    int remove_tree(int parent_fd, char const* name, int depth)
    {
        if (depth > max_remove_depth)
            return ELOOP;
        int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return errno;
        int list_fd = dup(fd);
        DIR* directory = list_fd < 0 ? nullptr : fdopendir(list_fd);
        if (!directory) {
            int error = errno;
            if (list_fd >= 0)
                close(list_fd);
            close(fd);
            return error;
        }
        std::vector<std::pair<std::string, bool>> entries; // name, is a directory
        int error = 0;
        errno = 0;
        while (dirent* entry = readdir(directory)) {
            if (is_dot_or_dot_dot(entry->d_name))
                continue;
            bool is_directory = entry->d_type == DT_DIR;
            if (entry->d_type == DT_UNKNOWN) {
                struct stat info;
                is_directory = fstatat(fd, entry->d_name, &info, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(info.st_mode);
            }
            entries.emplace_back(entry->d_name, is_directory);
        }
        if (errno != 0)
            error = errno;
        closedir(directory);
        for (auto const& [child, is_directory] : entries) {
            if (error != 0)
                break;
            if (is_directory)
                error = remove_tree(fd, child.c_str(), depth + 1);
            else if (unlinkat(fd, child.c_str(), 0) < 0 && errno != ENOENT)
                error = errno;
        }
        close(fd);
        if (error == 0 && unlinkat(parent_fd, name, AT_REMOVEDIR) < 0)
            error = errno;
        return error;
    }

    bool is_root_directory(struct stat const& info)
    {
        struct stat root;
        return stat("/", &root) == 0 && root.st_dev == info.st_dev && root.st_ino == info.st_ino;
    }

} // namespace

ErrorCode error_code_from_errno(int error)
{
    switch (error) {
    case ENOENT:
        return ErrorCode::NotFound;
    case EACCES:
    case EPERM:
    case EROFS:
        return ErrorCode::PermissionDenied;
    case EEXIST:
        return ErrorCode::AlreadyExists;
    case ENOTDIR:
        return ErrorCode::NotADirectory;
    case EISDIR:
        return ErrorCode::IsADirectory;
    case ENOTEMPTY:
        return ErrorCode::NotEmpty;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
        return ErrorCode::NoSpace;
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP:
    case EBUSY:
        return ErrorCode::InvalidArgument;
    case EOPNOTSUPP:
    case ENXIO:
        return ErrorCode::Unsupported;
    case ENOMEM:
    case EMFILE:
    case ENFILE:
        return ErrorCode::Internal;
    default:
        return ErrorCode::Io;
    }
}

ErrorReply error_reply_from_errno(std::string const& what, std::string const& path, int error)
{
    return ErrorReply { error_code_from_errno(error), what + " " + path + ": " + std::strerror(error) };
}

std::variant<StatReply, ErrorReply> stat_path(Stat const& request)
{
    struct stat info;
    if (lstat(request.path.c_str(), &info) < 0)
        return error_reply_from_errno("stat", request.path, errno);
    return StatReply {
        .kind = file_kind(info.st_mode),
        .size = static_cast<uint64_t>(info.st_size),
        .mode = static_cast<uint32_t>(info.st_mode) & max_file_mode,
        .mtime_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * nanoseconds_per_second + info.st_mtim.tv_nsec,
    };
}

std::variant<Ack, ErrorReply> make_directory(Mkdir const& request)
{
    auto mode = static_cast<mode_t>(request.mode);
    if (request.parents) {
        if (int error = make_parents(request.path); error != 0)
            return error_reply_from_errno("mkdir", request.path, error);
    }
    int error = create_directory(request.path, mode);
    if (error == EEXIST && request.parents)
        error = accept_existing_directory(request.path);
    if (error != 0)
        return error_reply_from_errno("mkdir", request.path, error);
    return Ack {};
}

std::variant<Ack, ErrorReply> remove_path(Remove const& request)
{
    // "link/" would make lstat() and openat() follow the symlink: drop trailing slashes so the
    // path names the entry itself.
    std::string path = request.path;
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    struct stat info;
    if (lstat(path.c_str(), &info) < 0)
        return error_reply_from_errno("remove", request.path, errno);
    if (!S_ISDIR(info.st_mode)) {
        if (unlink(path.c_str()) < 0)
            return error_reply_from_errno("remove", request.path, errno);
        return Ack {};
    }
    if (is_root_directory(info))
        return ErrorReply { ErrorCode::InvalidArgument, "remove " + request.path + ": refusing to remove /" };
    int error = 0;
    if (!request.recursive)
        error = rmdir(path.c_str()) < 0 ? errno : 0;
    else
        error = remove_tree(AT_FDCWD, path.c_str(), 0);
    if (error != 0)
        return error_reply_from_errno("remove", request.path, error);
    return Ack {};
}

} // namespace husk::agent
