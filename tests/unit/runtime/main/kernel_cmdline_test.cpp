// Kernel command line construction: defaults per serial mode, quoting, every rejection.
#include "runtime/main/exit_status.hpp"
#include "runtime/main/vmm_options.hpp"

#include <gtest/gtest.h>

using namespace husk;

namespace {
VmmOptions options_with_job(std::vector<std::string> job)
{
    VmmOptions options;
    options.kernel_path = "vmlinux";
    options.job_argv = std::move(job);
    return options;
}

void expect_rejected(VmmOptions const& options, std::string const& fragment)
{
    auto result = build_kernel_cmdline(options);
    ASSERT_FALSE(result.has_value()) << *result;
    EXPECT_NE(result.error().message.find(fragment), std::string::npos) << result.error().message;
}
} // namespace

TEST(BuildKernelCmdline, SerialOff_IsQuietWithoutUarts)
{
    auto cmdline = build_kernel_cmdline(options_with_job({}));
    ASSERT_TRUE(cmdline);
    EXPECT_EQ(
        *cmdline, "reboot=k panic=-1 pci=off i8042.noaux i8042.nomux i8042.dumbkbd i8042.nokbd pty.legacy_count=0 tsc=reliable 8250.nr_uarts=0 quiet");
}

TEST(BuildKernelCmdline, SerialOn_AddsConsoleAndQuiet)
{
    auto options = options_with_job({});
    options.serial.kind = SerialOutput::Kind::Stdout;
    EXPECT_EQ(*build_kernel_cmdline(options),
        "reboot=k panic=-1 pci=off i8042.noaux i8042.nomux i8042.dumbkbd i8042.nokbd pty.legacy_count=0 tsc=reliable console=ttyS0 8250.nr_uarts=1 "
        "quiet");
}

TEST(BuildKernelCmdline, SerialOnWithDebug_IsNotQuiet)
{
    auto options = options_with_job({});
    options.serial.kind = SerialOutput::Kind::File;
    options.debug = true;
    auto cmdline = *build_kernel_cmdline(options);
    EXPECT_NE(cmdline.find("console=ttyS0 8250.nr_uarts=1"), std::string::npos);
    EXPECT_EQ(cmdline.find("quiet"), std::string::npos);
}

TEST(BuildKernelCmdline, ExtraAndJob_AreAppendedInOrderAndQuoted)
{
    auto options = options_with_job({ "/bin/sh", "-c", "echo hello world", "" });
    options.extra_cmdline = "loglevel=8 foo=\"a b\"";
    auto cmdline = *build_kernel_cmdline(options);
    std::string expected_tail = " quiet loglevel=8 foo=\"a b\" -- \"/bin/sh\" \"-c\" \"echo hello world\" \"\"";
    ASSERT_GE(cmdline.size(), expected_tail.size());
    EXPECT_EQ(cmdline.substr(cmdline.size() - expected_tail.size()), expected_tail);
}

TEST(BuildKernelCmdline, DefaultsNeverIncludeNomodule)
{
    // With CONFIG_MODULES=n the kernel would pass "nomodule" to init as an argument.
    EXPECT_EQ(build_kernel_cmdline(options_with_job({}))->find("nomodule"), std::string::npos);
}

TEST(BuildKernelCmdline, ArgumentWithQuote_IsRejected)
{
    expect_rejected(options_with_job({ "say \"hi\"" }), "double quote");
}
TEST(BuildKernelCmdline, ArgumentWithNul_IsRejected)
{
    expect_rejected(options_with_job({ std::string("a\0b", 3) }), "NUL");
}
TEST(BuildKernelCmdline, ArgumentWithNewline_IsRejected) { expect_rejected(options_with_job({ "a\nb" }), "newline"); }
TEST(BuildKernelCmdline, DoubleDashArgument_IsRejected)
{
    expect_rejected(options_with_job({ "git", "--" }), "\"--\"");
}

TEST(BuildKernelCmdline, ExtraWithNewline_IsRejected)
{
    auto options = options_with_job({});
    options.extra_cmdline = "a\nb";
    expect_rejected(options, "newline");
}

TEST(BuildKernelCmdline, ExtraWithSeparator_IsRejected)
{
    auto options = options_with_job({});
    options.extra_cmdline = "loglevel=8 -- x";
    expect_rejected(options, "--");
    options.extra_cmdline = "loglevel=8 --x"; // not a separator
    EXPECT_TRUE(build_kernel_cmdline(options));
}

TEST(BuildKernelCmdline, TooManyJobArguments_AreRejected)
{
    EXPECT_TRUE(build_kernel_cmdline(options_with_job(std::vector<std::string>(max_job_arguments, "x"))));
    expect_rejected(options_with_job(std::vector<std::string>(max_job_arguments + 1, "x")), "at most");
}

TEST(BuildKernelCmdline, LengthLimit_IsExact)
{
    auto base = build_kernel_cmdline(options_with_job({}))->size();
    // " -- \"" + argument + "\"" adds 6 bytes around the argument.
    size_t room = kernel_cmdline_max_length - base - 6;
    EXPECT_EQ(build_kernel_cmdline(options_with_job({ std::string(room, 'a') }))->size(), kernel_cmdline_max_length);
    expect_rejected(options_with_job({ std::string(room + 1, 'a') }), "at most 2047");
}

TEST(VmmExitStatus, EachStopReason_MapsToDocumentedCode)
{
    EXPECT_EQ(static_cast<int>(vmm_exit_status(StopReason::GuestShutdown)), 0);
    EXPECT_EQ(static_cast<int>(vmm_exit_status(StopReason::VmmError)), 1);
    EXPECT_EQ(static_cast<int>(vmm_exit_status(StopReason::KvmError)), 1);
    EXPECT_EQ(static_cast<int>(vmm_exit_status(StopReason::GuestCrashed)), 3);
    EXPECT_EQ(static_cast<int>(vmm_exit_status(StopReason::GuestHalted)), 3);
    EXPECT_EQ(static_cast<int>(vmm_exit_status(StopReason::Timeout)), 4);
    EXPECT_EQ(static_cast<int>(vmm_exit_status(StopReason::HostSignal)), 5);
    EXPECT_EQ(static_cast<int>(VmmExitStatus::Usage), 2);
}
