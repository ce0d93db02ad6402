// EventLoop::create failure paths: a host that refuses io_uring (simulated with a seccomp filter
// in a child process, as kernel.io_uring_disabled=2 or a container policy would) and bad configs.
#include "runtime/io/event_loop.hpp"
#include "tests/unit/runtime/io/event_loop_test_support.hpp"

#include <cerrno>
#include <cstddef>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace husk;
using namespace husk::testing_io;

namespace {

// Makes io_uring_setup fail with `err` for this process; everything else stays allowed.
bool refuse_io_uring_setup(int err)
{
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | static_cast<uint32_t>(err)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog program { static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter };
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// Runs EventLoop::create in a child whose io_uring_setup fails with err; returns the error text
// the child saw ("created" if creation succeeded, "filter" if the filter could not be set).
std::string create_error_when_setup_fails_with(int err)
{
#ifndef __x86_64__
    return "filter"; // the filter above checks the x86-64 syscall ABI only
#endif
    Pipe pipe = make_pipe();
    pid_t child = ::fork();
    if (child == 0) {
        std::string message = "filter";
        if (refuse_io_uring_setup(err)) {
            auto loop = EventLoop::create(all_opcodes_config());
            message = loop.has_value() ? "created" : loop.error().message;
        }
        (void)write_all(pipe.write_end.get(), message.data(), message.size());
        ::_exit(0);
    }
    pipe.write_end.reset();
    std::string message;
    char chunk[256];
    ssize_t got;
    while ((got = ::read(pipe.read_end.get(), chunk, sizeof chunk)) > 0)
        message.append(chunk, static_cast<size_t>(got));
    int status = 0;
    ::waitpid(child, &status, 0);
    return message;
}

} // namespace

TEST(EventLoopSetup, IoUringRefusedWithEperm_CreateExplainsInOneSentence)
{
    std::string message = create_error_when_setup_fails_with(EPERM);

    ASSERT_NE(message, "filter") << "could not install the test's seccomp filter";
    EXPECT_EQ(message.find("io_uring is unavailable on this host"), 0u) << message;
    EXPECT_NE(message.find("Operation not permitted"), std::string::npos) << message;
    EXPECT_NE(message.find("kernel.io_uring_disabled"), std::string::npos) << message;
}

TEST(EventLoopSetup, IoUringMissingWithEnosys_CreateExplainsInOneSentence)
{
    std::string message = create_error_when_setup_fails_with(ENOSYS);

    ASSERT_NE(message, "filter") << "could not install the test's seccomp filter";
    EXPECT_EQ(message.find("io_uring is unavailable on this host"), 0u) << message;
    EXPECT_NE(message.find("seccomp"), std::string::npos) << message;
}

TEST(EventLoopSetup, InvalidConfig_CreateFailsWithReason)
{
    EventLoopConfig no_files = all_opcodes_config(0);
    EventLoopConfig no_queue = all_opcodes_config();
    no_queue.queue_depth = 0;

    auto without_files = EventLoop::create(no_files);
    auto without_queue = EventLoop::create(no_queue);

    ASSERT_FALSE(without_files.has_value());
    EXPECT_NE(without_files.error().message.find("fixed_file_count"), std::string::npos);
    ASSERT_FALSE(without_queue.has_value());
    EXPECT_NE(without_queue.error().message.find("queue depth"), std::string::npos) << without_queue.error().message;
}
