// SupportedCpuidAhead: the helper thread's answer is KVM's own, whoever asks first, and an
// object never asked still joins its thread. Needs /dev/kvm (PVM is fine for a system query) and
// skips loudly without it, like the other KVM smoke tests.
#include "runtime/kvm/supported_cpuid_ahead.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <thread>
#include <unistd.h>

using namespace husk;
using namespace std::chrono_literals;

namespace {
std::optional<Kvm> open_kvm_or_skip_reason(std::string& reason)
{
    if (::access("/dev/kvm", R_OK | W_OK) != 0) {
        reason = "/dev/kvm is missing or not accessible on this host: KVM smoke test NOT RUN";
        return std::nullopt;
    }
    auto kvm = Kvm::open(PvmPolicy::Allow);
    EXPECT_TRUE(kvm) << kvm.error().message;
    return kvm ? std::optional<Kvm>(std::move(kvm).value()) : std::nullopt;
}

// A KVM that passes host CPUID through (PVM does) answers with the APIC ID of the CPU the asking
// thread ran on: leaf 1's EBX[31:24], the x2APIC ID in EDX of leaves 0xb and 0x1f, the extended
// APIC ID in EAX of 0x8000001e. The helper thread and the test's may run on different CPUs, and
// husk-vmm sets those fields per vCPU anyway (runtime/boot/cpuid.cpp), so they are not compared.
kvm_cpuid_entry2 without_apic_ids(kvm_cpuid_entry2 entry)
{
    if (entry.function == 1)
        entry.ebx &= 0x00ff'ffffu;
    if (entry.function == 0xb || entry.function == 0x1f)
        entry.edx = 0;
    if (entry.function == 0x8000'001eu)
        entry.eax = 0;
    return entry;
}

void expect_same_entries(std::vector<kvm_cpuid_entry2> const& actual, std::vector<kvm_cpuid_entry2> const& expected)
{
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t i = 0; i < actual.size(); ++i) {
        auto got = without_apic_ids(actual[i]);
        auto want = without_apic_ids(expected[i]);
        EXPECT_EQ(got.function, want.function) << "entry " << i;
        EXPECT_EQ(got.index, want.index) << "entry " << i;
        EXPECT_EQ(got.flags, want.flags) << "entry " << i;
        EXPECT_EQ(got.eax, want.eax) << "entry " << i;
        EXPECT_EQ(got.ebx, want.ebx) << "entry " << i;
        EXPECT_EQ(got.ecx, want.ecx) << "entry " << i;
        EXPECT_EQ(got.edx, want.edx) << "entry " << i;
    }
}
} // namespace

#define OPEN_KVM_OR_SKIP(name)                                                                                         \
    std::string name##_skip;                                                                                           \
    auto name = open_kvm_or_skip_reason(name##_skip);                                                                  \
    if (!name) {                                                                                                       \
        if (!name##_skip.empty())                                                                                      \
            GTEST_SKIP() << "SKIPPING: " << name##_skip;                                                               \
        return;                                                                                                        \
    }

TEST(SupportedCpuidAhead, AskedAtOnce_AnswersWhatKvmAnswers)
{
    OPEN_KVM_OR_SKIP(kvm);
    auto expected = kvm->supported_cpuid();
    ASSERT_TRUE(expected) << expected.error().message;
    auto handle = kvm->another_handle();
    ASSERT_TRUE(handle) << handle.error().message;

    // Right after the start: the helper may or may not have claimed the question yet.
    SupportedCpuidAhead ahead(std::move(handle).value());
    auto answer = ahead.supported_cpuid();

    ASSERT_TRUE(answer) << answer.error().message;
    expect_same_entries(*answer, *expected);
}

TEST(SupportedCpuidAhead, GivenTime_TheHelperAnswers_AndTheAnswerIsKvms)
{
    OPEN_KVM_OR_SKIP(kvm);
    auto expected = kvm->supported_cpuid();
    ASSERT_TRUE(expected) << expected.error().message;
    auto handle = kvm->another_handle();
    ASSERT_TRUE(handle) << handle.error().message;

    SupportedCpuidAhead ahead(std::move(handle).value());
    for (int i = 0; i < 500 && !ahead.answered_by_helper(); ++i)
        std::this_thread::sleep_for(10ms);

    EXPECT_TRUE(ahead.answered_by_helper());
    auto answer = ahead.supported_cpuid();
    ASSERT_TRUE(answer) << answer.error().message;
    expect_same_entries(*answer, *expected);
    // Asking again returns the answer kept.
    auto again = ahead.supported_cpuid();
    ASSERT_TRUE(again);
    expect_same_entries(*again, *expected);
}

TEST(SupportedCpuidAhead, NeverAsked_JoinsItsThreadOnDestruction)
{
    OPEN_KVM_OR_SKIP(kvm);
    auto handle = kvm->another_handle();
    ASSERT_TRUE(handle) << handle.error().message;
    auto started = std::chrono::steady_clock::now();
    {
        SupportedCpuidAhead ahead(std::move(handle).value());
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(Kvm, AnotherHandle_IsAnotherDescriptorOnTheSameKvm)
{
    OPEN_KVM_OR_SKIP(kvm);
    auto handle = kvm->another_handle();
    ASSERT_TRUE(handle) << handle.error().message;
    EXPECT_NE(handle->fd(), kvm->fd());
    EXPECT_EQ(handle->flavour(), kvm->flavour());
    auto through_copy = handle->supported_cpuid();
    EXPECT_TRUE(through_copy) << through_copy.error().message;
}
