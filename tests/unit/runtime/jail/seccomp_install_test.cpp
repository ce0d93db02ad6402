// install_seccomp enforced by the kernel, in forked children: what each thread kind needs still
// works, and what an escaped guest would try first kills the process with SIGSYS.
#include "tests/unit/runtime/jail/seccomp_child.hpp"

#include "runtime/base/log.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/io_uring.h>
#include <linux/kvm.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

using namespace husk;
using namespace husk::testing_jail;

namespace {
constexpr size_t page = 4096;

// Exits 0 when the syscall ran (whatever the kernel answered), so "allowed" is distinguishable
// from "killed".
int ran(long) { return 0; }

int map_anonymous(int protection)
{
    void* memory = ::mmap(nullptr, page, protection, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return memory == MAP_FAILED ? 1 : 0;
}
} // namespace

class SeccompEveryKind : public ::testing::TestWithParam<ThreadKind> { };

TEST_P(SeccompEveryKind, Execve_KillsWithSigsys)
{
    auto end = run_filtered(GetParam(), [] {
        char const* argv[] = { "/bin/true", nullptr };
        return ran(::syscall(SYS_execve, argv[0], argv, nullptr));
    });

    EXPECT_TRUE(end.killed_by(SIGSYS)) << end.describe();
}

TEST_P(SeccompEveryKind, InetSocket_KillsWithSigsys)
{
    auto end = run_filtered(GetParam(), [] { return ran(::syscall(SYS_socket, AF_INET, SOCK_STREAM, 0)); });

    EXPECT_TRUE(end.killed_by(SIGSYS)) << end.describe();
}

TEST_P(SeccompEveryKind, ExecutableMapping_KillsWithSigsys)
{
    auto end = run_filtered(GetParam(), [] { return map_anonymous(PROT_READ | PROT_EXEC); });

    EXPECT_TRUE(end.killed_by(SIGSYS)) << end.describe();
}

TEST_P(SeccompEveryKind, MprotectToExecutable_KillsWithSigsys)
{
    static void* memory = nullptr;
    auto end = run_filtered(
        GetParam(), [] { return ran(::syscall(SYS_mprotect, memory, page, PROT_READ | PROT_EXEC)); },
        [] { memory = ::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); });

    EXPECT_TRUE(end.killed_by(SIGSYS)) << end.describe();
}

TEST_P(SeccompEveryKind, OpenFile_KillsWithSigsys)
{
    auto end = run_filtered(GetParam(), [] { return ran(::syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY)); });

    EXPECT_TRUE(end.killed_by(SIGSYS)) << end.describe();
}

TEST_P(SeccompEveryKind, UnlistedIoctl_KillsWithSigsys)
{
    auto end = run_filtered(GetParam(), [] { return ran(::syscall(SYS_ioctl, 0, KVM_CREATE_VM, 0)); });

    EXPECT_TRUE(end.killed_by(SIGSYS)) << end.describe();
}

TEST_P(SeccompEveryKind, ReadWriteMappingAndMalloc_Work)
{
    auto end = run_filtered(GetParam(), [] {
        if (map_anonymous(PROT_READ | PROT_WRITE) != 0)
            return 1;
        void* large = std::malloc(8 << 20); // beyond the mmap threshold
        if (large == nullptr)
            return 2;
        std::free(large);
        return 0;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

INSTANTIATE_TEST_SUITE_P(Kinds, SeccompEveryKind,
    ::testing::Values(ThreadKind::Main, ThreadKind::Event, ThreadKind::Vcpu),
    [](auto const& info) { return std::string(thread_kind_name(info.param)); });

TEST(SeccompVcpu, KvmRunIoctl_IsAllowed)
{
    // On a non-KVM fd the kernel answers ENOTTY: the filter let the call through.
    auto end = run_filtered(ThreadKind::Vcpu, [] {
        long rc = ::syscall(SYS_ioctl, 0, KVM_RUN, 0);
        return rc < 0 && errno == ENOTTY ? 0 : 1;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

TEST(SeccompVcpu, WriteToPipe_Works)
{
    static int pipe_fds[2];
    auto end = run_filtered(
        ThreadKind::Vcpu, [] { return ::write(pipe_fds[1], "x", 1) == 1 ? 0 : 1; },
        [] { ASSERT_EQ(::pipe(pipe_fds), 0); });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

TEST(SeccompVcpu, UnixSocket_KillsWithSigsys)
{
    auto end = run_filtered(ThreadKind::Vcpu, [] { return ran(::syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0)); });

    EXPECT_TRUE(end.killed_by(SIGSYS)) << end.describe();
}

TEST(SeccompEvent, UnixSocket_Works)
{
    auto end
        = run_filtered(ThreadKind::Event, [] { return ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) >= 0 ? 0 : 1; });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

TEST(SeccompEvent, FileTableUpdate_IsAllowed)
{
    // The kernel refuses the bogus arguments (EBADF or EINVAL); the filter let the call through.
    auto end = run_filtered(ThreadKind::Event,
        [] { return ran(::syscall(SYS_io_uring_register, -1, IORING_REGISTER_FILES_UPDATE, nullptr, 0)); });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

TEST(SeccompEvent, RegisterBuffers_KillsWithSigsys)
{
    auto end = run_filtered(ThreadKind::Event,
        [] { return ran(::syscall(SYS_io_uring_register, -1, IORING_REGISTER_BUFFERS, nullptr, 0)); });

    EXPECT_TRUE(end.killed_by(SIGSYS)) << end.describe();
}

TEST(SeccompEvent, FcntlDupfd_KillsWithSigsys)
{
    auto end = run_filtered(ThreadKind::Event, [] { return ran(::syscall(SYS_fcntl, 0, F_DUPFD, 0)); });

    EXPECT_TRUE(end.killed_by(SIGSYS)) << end.describe();
}

TEST(SeccompMain, KickSignalToOwnThread_IsAllowed)
{
    static pid_t thread = 0; // gettid itself is not on the main list: read it before the filter
    auto end = run_filtered(
        ThreadKind::Main, [] { return ::syscall(SYS_tgkill, ::getpid(), thread, SIGRTMIN) == 0 ? 0 : 1; },
        [] {
            ::signal(SIGRTMIN, SIG_IGN);
            thread = ::gettid();
        });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

TEST(SeccompMain, OtherSignalToOwnThread_KillsWithSigsys)
{
    static pid_t thread = 0;
    auto end = run_filtered(
        ThreadKind::Main, [] { return ran(::syscall(SYS_tgkill, ::getpid(), thread, SIGUSR1)); },
        [] {
            ::signal(SIGUSR1, SIG_IGN);
            thread = ::gettid();
        });

    EXPECT_TRUE(end.killed_by(SIGSYS)) << end.describe();
}

TEST(SeccompMain, KickSignalToAnotherProcess_KillsWithSigsys)
{
    static pid_t parent = ::getpid();
    auto end = run_filtered(ThreadKind::Main, [] { return ran(::syscall(SYS_tgkill, parent, parent, SIGRTMIN)); });

    EXPECT_TRUE(end.killed_by(SIGSYS)) << end.describe();
}

TEST(SeccompMain, PollOnPipe_Works)
{
    static int pipe_fds[2];
    auto end = run_filtered(
        ThreadKind::Main,
        [] {
            pollfd fd { pipe_fds[0], POLLIN, 0 };
            return ::poll(&fd, 1, 0) >= 0 ? 0 : 1;
        },
        [] { ASSERT_EQ(::pipe(pipe_fds), 0); });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

TEST(SeccompMain, KvmRunIoctl_KillsWithSigsys)
{
    auto end = run_filtered(ThreadKind::Main, [] { return ran(::syscall(SYS_ioctl, 0, KVM_RUN, 0)); });

    EXPECT_TRUE(end.killed_by(SIGSYS)) << end.describe();
}

TEST_P(SeccompEveryKind, LogLineAfterInstall_IsWritten)
{
    // The first time conversion makes glibc read /etc/localtime; install_seccomp does it first.
    static int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);

    auto end = run_filtered(GetParam(), [] {
        set_log_fd(pipe_fds[1]);
        log_info("filtered thread logging");
        return 0;
    });
    char buffer[512] {};
    auto got = ::read(pipe_fds[0], buffer, sizeof buffer - 1);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
    EXPECT_GT(got, 0);
    EXPECT_NE(std::string(buffer).find("filtered thread logging"), std::string::npos) << buffer;
}
