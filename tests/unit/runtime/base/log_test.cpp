#include "runtime/base/fd.hpp"
#include "runtime/base/log.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>

namespace husk {
namespace {

    std::string read_available(int fd)
    {
        std::string text;
        char buffer[65536];
        ssize_t n;
        while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
            text.append(buffer, static_cast<size_t>(n));
        return text;
    }

    size_t count_lines(std::string const& text, std::string const& needle)
    {
        size_t count = 0;
        for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
            ++count;
        return count;
    }

    // A guest that triggers one warning in a loop must not fill the log: the call site writes
    // its first lines, then a few with the number suppressed.
    TEST(Log, OneCallSiteInALoop_WritesBoundedLinesWithSuppressedCounts)
    {
        int pipe_fds[2];
        ASSERT_EQ(::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC), 0);
        Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
        set_log_fd(write_end.get());
        for (int n = 0; n < 100'000; ++n)
            log_warn("guest did something odd");
        log_warn("another call site");
        set_log_fd(STDERR_FILENO);

        std::string text = read_available(read_end.get());
        EXPECT_EQ(count_lines(text, "guest did something odd"), 10u + 13u); // 16 ... 65536
        EXPECT_NE(text.find("guest did something odd [32767 more like this suppressed]"), std::string::npos)
            << text.substr(text.size() > 2000 ? text.size() - 2000 : 0);
        EXPECT_EQ(count_lines(text, "another call site"), 1u);
    }

} // namespace
} // namespace husk
