// run_vmm's own limits, in the hostile suite's binary (it runs first in every lab_hostile boot):
// whatever the "VMM" does, run_vmm returns within its limit plus kill_grace.
#include "tests/lab/vmm_process.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <gtest/gtest.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace husk::lab;
using namespace std::chrono_literals;

namespace {

// A stand-in for husk-vmm: a shell script (run_vmm's arguments are ignored).
class FakeVmm {
public:
    explicit FakeVmm(char const* body)
    {
        char name[] = "/tmp/husk-fake-vmm.XXXXXX";
        int fd = mkstemp(name);
        if (fd < 0)
            return;
        std::string script = std::string("#!/bin/sh\n") + body + "\n";
        bool written = write(fd, script.data(), script.size()) == static_cast<ssize_t>(script.size());
        close(fd);
        m_path = name;
        if (!written || chmod(name, 0700) != 0)
            m_path.clear();
    }
    ~FakeVmm()
    {
        if (!m_path.empty())
            unlink(m_path.c_str());
    }
    std::string const& path() const { return m_path; }

private:
    std::string m_path;
};

} // namespace

// The hang that once held lab_hostile for more than ten minutes had to end somewhere: a VMM
// that closed its output but does not exit used to leave run_vmm in a wait4 without a limit.
TEST(RunVmm, KillsAVmmThatClosedItsOutputAndHangs)
{
    FakeVmm vmm("exec >&- 2>&-\nexec sleep 600");
    ASSERT_FALSE(vmm.path().empty());
    auto run = run_vmm({}, 2s, false, nullptr, vmm.path());
    EXPECT_TRUE(run.killed_by_test);
    EXPECT_FALSE(run.unkillable);
    EXPECT_EQ(run.term_signal, SIGKILL);
    EXPECT_LT(run.wall, 2s + 5s);
}

TEST(RunVmm, KillsAVmmThatKeepsWriting)
{
    FakeVmm vmm("while :; do echo flood; echo flood >&2; done");
    ASSERT_FALSE(vmm.path().empty());
    auto run = run_vmm({}, 2s, false, nullptr, vmm.path());
    EXPECT_TRUE(run.killed_by_test);
    EXPECT_EQ(run.term_signal, SIGKILL);
    EXPECT_LT(run.wall, 2s + 5s);
}

TEST(RunVmm, ReapsAVmmThatExits)
{
    FakeVmm vmm("echo out; echo err >&2; exit 3");
    ASSERT_FALSE(vmm.path().empty());
    auto run = run_vmm({}, 300s, false, nullptr, vmm.path()); // a loaded lab took 18 s to run it
    EXPECT_FALSE(run.killed_by_test);
    EXPECT_EQ(run.exit_status, 3);
    EXPECT_EQ(run.out, "out\n");
    EXPECT_EQ(run.err, "err\n");
}
