// VmCgroup on a real cgroup tree: limits written, processes moved in, a memory hog killed inside
// its cgroup only, the task limit enforced, cleanup after kill -9. These tests create and remove
// cgroups, so they only run where HUSK_TEST_CGROUP_ROOT names a tree they may use: the lab's
// tests/lab/cgroup-tests runs them on cgroup v1 and on v2 there, never on the host's cgroups.
#include "runtime/jail/cgroup.hpp"
#include "tests/unit/runtime/jail/seccomp_child.hpp"

#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <sys/mman.h>

using namespace husk;
using namespace husk::testing_jail;

namespace {
constexpr char const* parent_name = "husk-test";

class VmCgroupTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char const* root = std::getenv("HUSK_TEST_CGROUP_ROOT");
        if (root == nullptr)
            GTEST_SKIP() << "SKIPPING: HUSK_TEST_CGROUP_ROOT is not set (tests/lab/cgroup-tests sets it in the lab)";
        m_root = root;
        (void)remove_vm_cgroup(m_root, parent_name, vm_id());
    }
    void TearDown() override
    {
        if (!m_root.empty()) {
            auto removed = remove_vm_cgroup(m_root, parent_name, vm_id());
            EXPECT_TRUE(removed) << removed.error().message;
        }
    }
    static std::string vm_id()
    {
        return "vm-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
    }
    Result<VmCgroup> create(CgroupLimits limits = { 64ull << 20, 16, 500 })
    {
        return VmCgroup::create(m_root, parent_name, vm_id(), limits);
    }

    std::string m_root;
};

// Forks a child that waits until it has been moved into the cgroup, then runs `action`.
ChildEnd run_in_cgroup(VmCgroup& cgroup, std::function<int()> const& action)
{
    int go[2];
    if (::pipe(go) != 0)
        return {};
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(go[1]);
        char byte = 0;
        if (::read(go[0], &byte, 1) != 1)
            ::_exit(90);
        ::_exit(action());
    }
    ::close(go[0]);
    auto added = cgroup.add_process(pid);
    EXPECT_TRUE(added) << added.error().message;
    EXPECT_EQ(::write(go[1], "g", 1), 1);
    ::close(go[1]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ChildEnd end;
    end.exited = WIFEXITED(status);
    end.exit_code = end.exited ? WEXITSTATUS(status) : -1;
    end.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return end;
}
} // namespace

TEST(VmCgroupNames, PathLikeVmId_Refused)
{
    auto created = VmCgroup::create("/sys/fs/cgroup", "husk", "../escape", { 1, 1, 1 });

    EXPECT_FALSE(created);
}

TEST(VmCgroupNames, MissingLimit_Refused)
{
    auto created = VmCgroup::create("/sys/fs/cgroup", "husk", "vm1", { 64ull << 20, 0, 1000 });

    ASSERT_FALSE(created);
    EXPECT_NE(created.error().message.find("limits"), std::string::npos);
}

TEST_F(VmCgroupTest, Created_LimitsWrittenForEveryController)
{
    auto cgroup = create({ 64ull << 20, 16, 500 });
    ASSERT_TRUE(cgroup) << cgroup.error().message;

    auto read = [](std::string const& path) { return read_file(path, 4096).value_or("<unreadable>"); };
    if (cgroup->version() == CgroupVersion::V2) {
        ASSERT_EQ(cgroup->paths().size(), 1u);
        auto const& path = cgroup->paths()[0];
        EXPECT_EQ(read(path + "/memory.max"), "67108864\n");
        EXPECT_EQ(read(path + "/pids.max"), "16\n");
        EXPECT_EQ(read(path + "/cpu.max"), "50000 100000\n");
    } else {
        ASSERT_EQ(cgroup->paths().size(), 3u);
        EXPECT_EQ(read(cgroup->paths()[0] + "/memory.limit_in_bytes"), "67108864\n");
        EXPECT_EQ(read(cgroup->paths()[1] + "/pids.max"), "16\n");
        EXPECT_EQ(read(cgroup->paths()[2] + "/cpu.cfs_quota_us"), "50000\n");
    }
}

TEST_F(VmCgroupTest, SameVmTwice_Refused)
{
    auto first = create();
    ASSERT_TRUE(first) << first.error().message;

    auto second = create();

    EXPECT_FALSE(second);
}

TEST_F(VmCgroupTest, MemoryHog_KilledInsideItsCgroupOnly)
{
    auto cgroup = create({ 32ull << 20, 16, 1000 });
    ASSERT_TRUE(cgroup) << cgroup.error().message;

    auto end = run_in_cgroup(*cgroup, [] {
        size_t size = 256ull << 20;
        auto* memory
            = static_cast<char*>(::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        if (memory == MAP_FAILED)
            return 1;
        std::memset(memory, 1, size);
        return 0;
    });

    EXPECT_TRUE(end.killed_by(SIGKILL)) << end.describe();
}

TEST_F(VmCgroupTest, TaskLimit_RefusesMoreForks)
{
    auto cgroup = create({ 64ull << 20, 4, 1000 });
    ASSERT_TRUE(cgroup) << cgroup.error().message;

    auto end = run_in_cgroup(*cgroup, [] {
        for (int i = 0; i < 8; ++i) {
            pid_t child = ::fork();
            if (child == 0) {
                ::pause();
                ::_exit(0);
            }
            if (child < 0)
                return errno == EAGAIN ? 0 : 2;
        }
        return 1; // every fork succeeded: no limit
    });

    EXPECT_TRUE(end.exited_with(0)) << end.describe();
    // The paused grandchildren are still in the cgroup; TearDown's removal must kill them.
}

TEST_F(VmCgroupTest, AfterKill9_CleanupRemovesEverything)
{
    auto cgroup = create();
    ASSERT_TRUE(cgroup) << cgroup.error().message;
    pid_t pid = ::fork();
    if (pid == 0) {
        ::pause();
        ::_exit(0);
    }
    ASSERT_TRUE(cgroup->add_process(pid));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    auto paths = cgroup->paths();

    auto removed = remove_vm_cgroup(m_root, parent_name, vm_id());

    EXPECT_TRUE(removed) << removed.error().message;
    for (auto const& path : paths)
        EXPECT_NE(::access(path.c_str(), F_OK), 0) << path;
}
