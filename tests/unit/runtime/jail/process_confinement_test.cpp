// Resource limits, inherited descriptors, environment and the uid/gid drop, each applied in a
// forked child (they are irreversible) and checked there.
#include "runtime/jail/identity.hpp"
#include "runtime/jail/process_hygiene.hpp"
#include "runtime/jail/resource_limits.hpp"
#include "tests/unit/runtime/jail/seccomp_child.hpp"

#include <array>
#include <cstdlib>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

using namespace husk;
using namespace husk::testing_jail;

namespace {
bool is_open(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

rlim_t hard_limit(int resource)
{
    rlimit limit {};
    ::getrlimit(resource, &limit);
    return limit.rlim_max;
}
} // namespace

TEST(ResourceLimits, Applied_SoftAndHardLimitsSetAndEnforced)
{
    auto end = run_in_child([] {
        ResourceLimits limits;
        limits.open_files = 16;
        limits.file_size_bytes = 4096;
        limits.processes = 64;
        if (!apply_resource_limits(limits))
            return 1;
        if (hard_limit(RLIMIT_NOFILE) != 16 || hard_limit(RLIMIT_FSIZE) != 4096 || hard_limit(RLIMIT_NPROC) != 64)
            return 2;
        // The 17th descriptor is refused.
        for (int i = 0; i < 32; ++i) {
            if (::dup(0) < 0)
                return errno == EMFILE ? 0 : 3;
        }
        return 4;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

TEST(ResourceLimits, RaisingAboveHardLimitWithoutPrivilege_FailsNamingTheLimit)
{
    auto end = run_in_child([] {
        rlimit low { 32, 32 };
        ::setrlimit(RLIMIT_NOFILE, &low);
        // Drop CAP_SYS_RESOURCE the simple way: become another user.
        if (::geteuid() == 0 && !drop_identity({ 65534, 65534 }))
            return 1;
        ResourceLimits limits;
        limits.open_files = 4096;
        auto applied = apply_resource_limits(limits);
        if (applied)
            return 2;
        return applied.error().message.find("RLIMIT_NOFILE") != std::string::npos ? 0 : 3;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

TEST(CloseInheritedFds, KeepList_OnlyThoseStayOpen)
{
    auto end = run_in_child([] {
        std::array<int, 6> fds {};
        for (auto& fd : fds)
            fd = ::open("/dev/null", O_RDONLY);
        std::array<int, 3> keep { fds[4], 2, fds[1] };
        if (!close_inherited_fds(keep))
            return 1;
        if (!is_open(2) || !is_open(fds[1]) || !is_open(fds[4]))
            return 2;
        if (is_open(0) || is_open(1) || is_open(fds[0]) || is_open(fds[2]) || is_open(fds[3]) || is_open(fds[5]))
            return 3;
        return 0;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

TEST(CloseInheritedFds, NegativeDescriptorToKeep_Refused)
{
    std::array<int, 1> keep { -1 };

    auto closed = close_inherited_fds(keep);

    ASSERT_FALSE(closed);
    EXPECT_NE(closed.error().message.find("invalid descriptor -1"), std::string::npos);
}

TEST(ClearEnvironment, AfterClearing_NoVariableLeft)
{
    auto end = run_in_child([] {
        ::setenv("HUSK_SECRET", "x", 1);
        if (!clear_environment())
            return 1;
        return ::getenv("HUSK_SECRET") == nullptr && (environ == nullptr || environ[0] == nullptr) ? 0 : 2;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}

TEST(DropIdentity, RootOrZeroGid_Refused)
{
    EXPECT_FALSE(drop_identity({ 0, 1000 }));
    EXPECT_FALSE(drop_identity({ 1000, 0 }));
}

TEST(DropIdentity, AsRoot_NewIdsNoGroupsNoWayBack)
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "SKIPPING: dropping identity needs root";
    auto end = run_in_child([] {
        if (!drop_identity({ 40123, 40124 }))
            return 1;
        uid_t ruid, euid, suid;
        gid_t rgid, egid, sgid;
        ::getresuid(&ruid, &euid, &suid);
        ::getresgid(&rgid, &egid, &sgid);
        if (ruid != 40123 || euid != 40123 || suid != 40123 || rgid != 40124 || egid != 40124 || sgid != 40124)
            return 2;
        if (::getgroups(0, nullptr) != 0)
            return 3;
        return ::setuid(0) != 0 && ::setgid(0) != 0 ? 0 : 4;
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
}
