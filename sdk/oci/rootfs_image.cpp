// Building the container's root filesystem image with mke2fs -d.
#include "sdk/oci/rootfs_image.hpp"

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace husk::oci {

namespace {

    constexpr uint64_t block = 4096;

    std::string find_mkfs()
    {
        for (auto const* candidate : { "/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4", "/usr/bin/mkfs.ext4" }) {
            if (access(candidate, X_OK) == 0)
                return candidate;
        }
        return "mkfs.ext4"; // posix_spawnp searches PATH
    }

} // namespace

Result<RootfsSize> measure_rootfs(std::string const& directory)
{
    std::error_code error;
    if (!std::filesystem::is_directory(directory, error))
        return fail(ErrorKind::BadConfig, "rootfs " + directory + ": not a directory");
    uint64_t data = 0;
    uint64_t entries = 1;
    std::filesystem::recursive_directory_iterator it(
        directory, std::filesystem::directory_options::none, error);
    if (error)
        return fail("cannot read rootfs " + directory + ": " + error.message());
    for (auto end = std::filesystem::recursive_directory_iterator(); it != end; it.increment(error)) {
        if (error)
            return fail("cannot read rootfs " + directory + ": " + error.message());
        ++entries;
        auto status = it->symlink_status(error);
        if (!error && std::filesystem::is_regular_file(status)) {
            auto size = it->file_size(error);
            if (!error)
                data += (size + block - 1) / block * block;
        }
    }
    RootfsSize size;
    size.inodes = entries + 256;
    // Data, one block per entry (directories, metadata), 12% for ext4's own structures and a
    // fixed 8 MiB slack. The file is sparse: unused space costs nothing.
    uint64_t needed = data + entries * block;
    size.bytes = (needed + needed / 8 + (8ull << 20) + block - 1) / block * block;
    return size;
}

Result<void> build_rootfs_image(std::string const& directory, std::string const& image)
{
    auto size = TRY(measure_rootfs(directory));
    int fd = open(image.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail_errno("cannot create " + image);
    if (ftruncate(fd, static_cast<off_t>(size.bytes)) < 0) {
        int err = errno;
        close(fd);
        return fail_errno("cannot size " + image, err);
    }
    close(fd);

    std::string mkfs = find_mkfs();
    std::string inodes = std::to_string(size.inodes);
    // No journal (the guest mounts it read-only), no reserved blocks, quiet; -F: it is a file.
    std::vector<std::string> args { mkfs, "-q", "-F", "-t", "ext4", "-O", "^has_journal", "-m", "0", "-N", inodes,
        "-d", directory, image };
    std::vector<char*> argv;
    for (auto& arg : args)
        argv.push_back(arg.data());
    argv.push_back(nullptr);

    // mke2fs's chatter goes to a pipe so it never reaches the container's stdio; its last lines
    // make the error message.
    int output[2];
    if (pipe2(output, O_CLOEXEC) < 0)
        return fail_errno("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, output[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, output[1], STDERR_FILENO);
    pid_t pid = 0;
    int spawned = posix_spawnp(&pid, mkfs.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(output[1]);
    if (spawned != 0) {
        close(output[0]);
        return fail_errno("cannot run mkfs.ext4 (install e2fsprogs)", spawned);
    }
    std::string messages;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = read(output[0], buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0 && messages.size() < 16384)
            messages.append(buffer, static_cast<size_t>(n));
    }
    close(output[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) { }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        unlink(image.c_str());
        while (!messages.empty() && messages.back() == '\n')
            messages.pop_back();
        return fail("mkfs.ext4 -d " + directory + " failed: " + messages);
    }
    return {};
}

} // namespace husk::oci
