// The BPF programs compiled at build time are exactly what libseccomp makes of the allow-lists
// now, for every thread kind, for any run-time values of the main thread's list and for the
// event thread of a VM with 1 to max_precompiled_shares shares with any descriptors, so a list
// edited without a rebuild of the programs (or a compiler that drifts) fails here. Enforcement
// through the precompiled path is tested in seccomp_install_test.cpp and, for shares, in
// share_allow_list_test.cpp.
#include "runtime/jail/allow_lists.hpp"
#include "runtime/jail/precompiled_seccomp.hpp"
#include "runtime/jail/seccomp_filter.hpp"

#include <gtest/gtest.h>
#include <numeric>
#include <tuple>

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

namespace {
// What install_seccomp composed before the share programs were precompiled: the event list plus
// the file-sharing rules of these descriptors.
std::vector<SyscallRule> event_rules_with_shares(FileSharingDescriptors const& shares)
{
    auto rules = allow_list_for(ThreadKind::Event);
    auto sharing = file_sharing_rules(shares.share_roots, shares.proc_fd_directories, shares.owners);
    rules.insert(rules.end(), sharing.begin(), sharing.end());
    return rules;
}

// Descriptors as a VM opens them (root, then its /proc/self/fd, share after share), in reverse,
// and scattered: libseccomp orders each syscall's alternatives by value, which instantiate()
// must follow for every order the shares' descriptors can come in.
std::vector<FileSharingDescriptors> descriptor_layouts(size_t shares, FileSharingOwners owners)
{
    std::vector<FileSharingDescriptors> layouts(3);
    for (size_t i = 0; i < shares; ++i) {
        int n = static_cast<int>(i);
        layouts[0].share_roots.push_back(20 + 2 * n);
        layouts[0].proc_fd_directories.push_back(21 + 2 * n);
        layouts[1].share_roots.push_back(100 - 2 * n);
        layouts[1].proc_fd_directories.push_back(99 - 2 * n);
        layouts[2].share_roots.push_back(n % 2 == 0 ? 3 + n : 4000 + 7 * n);
        layouts[2].proc_fd_directories.push_back(n % 2 == 0 ? 65'000 - n : 500 + 3 * n);
    }
    for (auto& layout : layouts)
        layout.owners = owners;
    return layouts;
}
} // namespace

class PrecompiledShareSeccompTest : public ::testing::TestWithParam<std::tuple<size_t, FileSharingOwners>> { };

TEST_P(PrecompiledShareSeccompTest, Program_EqualsLibseccompOfTheEventListWithThoseShares)
{
    auto [shares, owners] = GetParam();
    for (auto const& descriptors : descriptor_layouts(shares, owners)) {
        auto expected = libseccomp_program(event_rules_with_shares(descriptors));

        auto actual = instantiate(precompiled_share_filter(shares, owners), descriptors);

        ASSERT_TRUE(actual) << actual.error().message;
        expect_same_program(*actual, expected);
    }
}

TEST_P(PrecompiledShareSeccompTest, Placeholders_AreGoneAfterInstantiation)
{
    auto [shares, owners] = GetParam();
    auto filter = precompiled_share_filter(shares, owners);
    EXPECT_EQ(filter.shares, shares);
    auto actual = instantiate(filter, descriptor_layouts(shares, owners)[0]);
    ASSERT_TRUE(actual) << actual.error().message;
    for (auto const& instruction : *actual) {
        for (size_t share = 0; share < max_precompiled_shares; ++share) {
            EXPECT_NE(instruction.k, seccomp_share_root_placeholder(share));
            EXPECT_NE(instruction.k, seccomp_share_proc_fds_placeholder(share));
        }
    }
}

INSTANTIATE_TEST_SUITE_P(EveryShareCount, PrecompiledShareSeccompTest,
    ::testing::Combine(::testing::Range<size_t>(1, max_precompiled_shares + 1),
        ::testing::Values(FileSharingOwners::ServerUser, FileSharingOwners::Guest)),
    [](auto const& info) {
        return std::to_string(std::get<0>(info.param)) + "_shares"
            + (std::get<1>(info.param) == FileSharingOwners::Guest ? "_guest_owned" : "");
    });

TEST(PrecompiledShareSeccomp, MoreSharesThanCompiled_IsRefusedWithTheLimit)
{
    FileSharingDescriptors descriptors;
    descriptors.share_roots.resize(max_precompiled_shares + 1);
    std::iota(descriptors.share_roots.begin(), descriptors.share_roots.end(), 10);
    descriptors.proc_fd_directories.resize(max_precompiled_shares + 1);
    std::iota(descriptors.proc_fd_directories.begin(), descriptors.proc_fd_directories.end(), 30);

    auto filter = precompiled_share_filter(max_precompiled_shares + 1, FileSharingOwners::ServerUser);
    auto program = instantiate(filter, descriptors);

    EXPECT_TRUE(filter.program.empty());
    ASSERT_FALSE(program);
    EXPECT_NE(program.error().message.find("at most " + std::to_string(max_precompiled_shares)), std::string::npos)
        << program.error().message;
}

TEST(PrecompiledShareSeccomp, DescriptorsOfAnotherShareCount_AreRefused)
{
    FileSharingDescriptors two_roots_one_proc { { 10, 12 }, { 11 }, FileSharingOwners::ServerUser };

    auto program = instantiate(precompiled_share_filter(2, FileSharingOwners::ServerUser), two_roots_one_proc);

    ASSERT_FALSE(program);
    EXPECT_NE(program.error().message.find("2 share roots and 1 /proc/self/fd"), std::string::npos)
        << program.error().message;
}
