// Tests for guest-init/console: attaching fds 0-2, run in a forked child so the test runner's
// own standard fds are never touched.
#include "guest-init/console.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace husk::init;

namespace {

// Runs `body` in a child and returns its exit code (or -1 if it did not exit normally).
template<typename Body>
int in_child(Body body)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(body());
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool same_file(int fd, char const* path)
{
    struct stat by_fd {
    }, by_path {};
    return fstat(fd, &by_fd) == 0 && stat(path, &by_path) == 0 && by_fd.st_ino == by_path.st_ino
        && by_fd.st_dev == by_path.st_dev;
}

// Which descriptors above stderr are open; the test runner may pass some down to us.
std::vector<int> open_descriptors_above_stderr()
{
    constexpr int highest_checked = 1024;
    std::vector<int> open_fds;
    for (int fd = STDERR_FILENO + 1; fd < highest_checked; ++fd) {
        if (fcntl(fd, F_GETFD) >= 0)
            open_fds.push_back(fd);
    }
    return open_fds;
}

} // namespace

TEST(AttachStandardFds, AllClosed_AttachesFirstWorkingCandidateToEach)
{
    int code = in_child([] {
        close(0), close(1), close(2);
        auto inherited = open_descriptors_above_stderr();
        if (!attach_standard_fds({ "/nonexistent/console", "/dev/null" }))
            return 10;
        for (int fd = 0; fd <= 2; ++fd) {
            if (!same_file(fd, "/dev/null") || (fcntl(fd, F_GETFD) & FD_CLOEXEC))
                return 20 + fd;
        }
        return open_descriptors_above_stderr() == inherited ? 0 : 30; // no stray descriptor left behind
    });
    EXPECT_EQ(code, 0);
}

TEST(AttachStandardFds, SomeOpen_LeavesOpenOnesAlone)
{
    int code = in_child([] {
        int pipe_fds[2];
        if (pipe(pipe_fds) < 0)
            return 9;
        dup2(pipe_fds[1], 1);
        close(0), close(2);
        if (!attach_standard_fds({ "/dev/null" }))
            return 10;
        struct stat out { };
        fstat(1, &out);
        return S_ISFIFO(out.st_mode) && same_file(0, "/dev/null") && same_file(2, "/dev/null") ? 0 : 11;
    });
    EXPECT_EQ(code, 0);
}

TEST(AttachStandardFds, NoCandidateOpens_Fails)
{
    int code = in_child([] {
        close(0);
        return attach_standard_fds({ "/nonexistent/a", "/nonexistent/b" }) ? 1 : 0;
    });
    EXPECT_EQ(code, 0);
}
