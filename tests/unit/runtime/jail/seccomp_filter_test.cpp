// SeccompFilter and the allow-lists as data: unknown or repeated names and bad argument indexes
// are refused with a clear message; every list builds, stays within its budget and gives a
// reason for each syscall.
#include "runtime/jail/allow_lists.hpp"
#include "runtime/jail/seccomp_filter.hpp"

#include <gtest/gtest.h>

using namespace husk;

namespace {
std::string error_of(std::vector<SyscallRule> const& rules)
{
    auto filter = SeccompFilter::create(rules);
    return filter ? std::string() : filter.error().message;
}
} // namespace

TEST(SeccompFilter, UnknownSyscallName_FailsNamingIt)
{
    std::vector<SyscallRule> rules { { "read", "test", {} }, { "no_such_syscall", "test", {} } };

    auto message = error_of(rules);

    EXPECT_NE(message.find("unknown syscall \"no_such_syscall\""), std::string::npos) << message;
}

TEST(SeccompFilter, SyscallListedTwice_FailsNamingIt)
{
    std::vector<SyscallRule> rules { { "read", "test", {} }, { "read", "again", {} } };

    auto message = error_of(rules);

    EXPECT_NE(message.find("\"read\" twice"), std::string::npos) << message;
}

TEST(SeccompFilter, ArgumentIndexBeyondSix_FailsNamingTheSyscall)
{
    std::vector<SyscallRule> rules { { "ioctl", "test", { arg_equals_32(6, 1) } } };

    auto message = error_of(rules);

    EXPECT_NE(message.find("ioctl tests argument 6"), std::string::npos) << message;
}

TEST(SeccompFilter, RequiredArgumentIndexBeyondSix_Fails)
{
    std::vector<SyscallRule> rules { { "tgkill", "test", {}, { arg_equals_32(7, 1) } } };

    EXPECT_FALSE(error_of(rules).empty());
}

TEST(SeccompFilter, ValidList_ExportsBpfProgram)
{
    std::vector<SyscallRule> rules { { "read", "test", {} },
        { "ioctl", "test", { arg_equals_32(1, 1), arg_equals_32(1, 2) } } };

    auto filter = SeccompFilter::create(rules);
    ASSERT_TRUE(filter) << filter.error().message;
    auto count = filter->bpf_instruction_count();

    ASSERT_TRUE(count) << count.error().message;
    EXPECT_GT(*count, 4u);
}

class AllowListTest : public ::testing::TestWithParam<ThreadKind> { };

TEST_P(AllowListTest, EveryList_BuildsIntoAFilter)
{
    auto filter = SeccompFilter::create(allow_list_for(GetParam()));

    EXPECT_TRUE(filter) << filter.error().message;
}

TEST_P(AllowListTest, EveryRule_HasAReason)
{
    for (auto const& rule : allow_list_for(GetParam()))
        EXPECT_GE(rule.reason.size(), 10u) << rule.name;
}

TEST_P(AllowListTest, ForbiddenEverywhere_NeverListed)
{
    // The syscalls an escaped guest would want first: new programs, privilege and namespace
    // changes, tracing, kernel modules, arbitrary files.
    for (auto const& rule : allow_list_for(GetParam())) {
        for (auto forbidden : { "execve", "execveat", "fork", "vfork", "clone", "clone3", "ptrace", "open", "openat",
                 "openat2", "setns", "unshare", "mount", "init_module", "finit_module", "bpf", "process_vm_writev",
                 "seccomp", "prctl", "kill", "pkey_mprotect" })
            EXPECT_NE(rule.name, forbidden);
    }
}

INSTANTIATE_TEST_SUITE_P(Kinds, AllowListTest, ::testing::Values(ThreadKind::Main, ThreadKind::Event, ThreadKind::Vcpu),
    [](auto const& info) { return std::string(thread_kind_name(info.param)); });

TEST(AllowListBudget, EventThread_AtMostFortySyscalls)
{
    EXPECT_LE(distinct_syscall_count(allow_list_for(ThreadKind::Event)), event_thread_syscall_budget);
}

TEST(AllowListBudget, VcpuThread_AtMostTwentySyscalls)
{
    EXPECT_LE(distinct_syscall_count(allow_list_for(ThreadKind::Vcpu)), vcpu_thread_syscall_budget);
}

TEST(ThreadKindNames, EveryName_ParsesBack)
{
    for (auto kind : { ThreadKind::Main, ThreadKind::Event, ThreadKind::Vcpu })
        EXPECT_EQ(parse_thread_kind(thread_kind_name(kind)), kind);
    EXPECT_EQ(parse_thread_kind("vCPU"), std::nullopt);
    EXPECT_EQ(parse_thread_kind(""), std::nullopt);
}
