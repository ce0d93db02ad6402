// Console attachment and messages.
#include "guest-init/console.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace husk::init {

namespace {

    constexpr std::array standard_fds { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };

    bool is_open(int fd) { return fcntl(fd, F_GETFD) >= 0 || errno != EBADF; }

} // namespace

Result<void> attach_standard_fds(std::initializer_list<char const*> candidates)
{
    bool all_open = true;
    for (int fd : standard_fds)
        all_open = all_open && is_open(fd);
    if (all_open)
        return {};

    int fd = -1;
    std::string tried;
    for (char const* path : candidates) {
        // No O_CLOEXEC: the descriptor may land on 0-2 itself, and those must survive execve.
        fd = open(path, O_RDWR | O_NOCTTY);
        if (fd >= 0)
            break;
        tried += std::string(tried.empty() ? "" : ", ") + path + ": " + std::strerror(errno);
    }
    if (fd < 0)
        return fail("no console for fds 0-2 (" + tried + ")");

    for (int target : standard_fds) {
        if (target != fd && !is_open(target) && dup2(fd, target) < 0)
            return fail_errno("dup2 onto fd " + std::to_string(target));
    }
    if (fd > STDERR_FILENO)
        close(fd);
    return {};
}

void console_message(std::string_view message)
{
    std::string line = "husk-init: ";
    line.append(message);
    line.push_back('\n');
    // Nothing to do if even the console is gone; the host still gets the status port writes.
    [[maybe_unused]] auto written = write(STDERR_FILENO, line.data(), line.size());
}

} // namespace husk::init
