// The BPF programs compiled at build time are exactly what libseccomp makes of the allow-lists
// now, for every thread kind and for any run-time values of the main thread's list, so a list
// edited without a rebuild of the programs (or a compiler that drifts) fails here. Enforcement
// through the precompiled path is tested in seccomp_install_test.cpp.
#include "runtime/jail/allow_lists.hpp"
#include "runtime/jail/precompiled_seccomp.hpp"
#include "runtime/jail/seccomp_filter.hpp"

#include <gtest/gtest.h>

using namespace husk;

namespace {
void expect_same_program(std::vector<sock_filter> const& actual, std::vector<sock_filter> const& expected)
{
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t i = 0; i < actual.size(); ++i) {
        EXPECT_EQ(actual[i].code, expected[i].code) << "instruction " << i;
        EXPECT_EQ(actual[i].jt, expected[i].jt) << "instruction " << i;
        EXPECT_EQ(actual[i].jf, expected[i].jf) << "instruction " << i;
        EXPECT_EQ(actual[i].k, expected[i].k) << "instruction " << i;
    }
}

std::vector<sock_filter> libseccomp_program(std::vector<SyscallRule> const& rules)
{
    auto filter = SeccompFilter::create(rules);
    EXPECT_TRUE(filter) << filter.error().message;
    auto program = filter->bpf_program();
    EXPECT_TRUE(program) << program.error().message;
    return program ? *program : std::vector<sock_filter> {};
}
} // namespace

class PrecompiledSeccompTest : public ::testing::TestWithParam<ThreadKind> { };

TEST_P(PrecompiledSeccompTest, Program_EqualsLibseccompOfTheCurrentList)
{
    auto expected = libseccomp_program(allow_list_for(GetParam()));

    auto actual = instantiate(precompiled_filter(GetParam()), current_main_thread_values());

    expect_same_program(actual, expected);
}

INSTANTIATE_TEST_SUITE_P(EveryThreadKind, PrecompiledSeccompTest,
    ::testing::Values(ThreadKind::Main, ThreadKind::Event, ThreadKind::Vcpu),
    [](auto const& info) { return std::string(thread_kind_name(info.param)); });

TEST(PrecompiledSeccomp, MainProgramWithOtherValues_EqualsLibseccompOfThoseValues)
{
    MainThreadValues values { 4'000'000, 40 };
    auto expected = libseccomp_program(main_thread_allow_list(values));

    auto actual = instantiate(precompiled_filter(ThreadKind::Main), values);

    expect_same_program(actual, expected);
}

TEST(PrecompiledSeccomp, OnlyTheMainProgram_HasRunTimeSlots)
{
    auto main = precompiled_filter(ThreadKind::Main);
    EXPECT_FALSE(main.pid_slots.empty());
    EXPECT_FALSE(main.kick_signal_slots.empty());
    for (auto kind : { ThreadKind::Event, ThreadKind::Vcpu }) {
        EXPECT_TRUE(precompiled_filter(kind).pid_slots.empty());
        EXPECT_TRUE(precompiled_filter(kind).kick_signal_slots.empty());
    }
}

TEST(PrecompiledSeccomp, Placeholders_AreGoneAfterInstantiation)
{
    auto program = instantiate(precompiled_filter(ThreadKind::Main), current_main_thread_values());
    for (auto const& instruction : program) {
        EXPECT_NE(instruction.k, seccomp_pid_placeholder);
        EXPECT_NE(instruction.k, seccomp_kick_signal_placeholder);
    }
}

TEST(LoadSeccompProgram, EmptyProgram_IsRefusedBeforeTheKernelSeesIt)
{
    auto loaded = load_seccomp_program({});

    ASSERT_FALSE(loaded);
    EXPECT_NE(loaded.error().message.find("1 to"), std::string::npos) << loaded.error().message;
}
