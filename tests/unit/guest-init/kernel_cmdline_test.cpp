// Tests for guest-init/kernel_cmdline: the kernel's word splitting, the crash hook and the job argv.
#include "guest-init/kernel_cmdline.hpp"

#include <gtest/gtest.h>

using namespace husk::init;

TEST(ParseKernelCmdline, PlainWords_SplitsParametersAndInitArguments)
{
    auto cmdline = parse_kernel_cmdline("console=ttyS0 reboot=k panic=-1 quiet -- /bin/uname -r\n");

    ASSERT_EQ(cmdline.parameters.size(), 4u);
    EXPECT_EQ(cmdline.parameters[0], (KernelArgument { "console", "ttyS0" }));
    EXPECT_EQ(cmdline.parameters[3], (KernelArgument { "quiet", std::nullopt }));
    EXPECT_TRUE(cmdline.has_separator);
    EXPECT_EQ(cmdline.init_arguments, (std::vector<std::string> { "/bin/uname", "-r" }));
}

TEST(ParseKernelCmdline, QuotedWords_StripsQuotesLikeTheKernel)
{
    auto cmdline = parse_kernel_cmdline(R"(dyndbg="file x +p" -- sh -c "echo hi there" "a=b c" x="y z")");

    ASSERT_EQ(cmdline.parameters.size(), 1u);
    EXPECT_EQ(cmdline.parameters[0], (KernelArgument { "dyndbg", "file x +p" }));
    EXPECT_EQ(cmdline.init_arguments, (std::vector<std::string> { "sh", "-c", "echo hi there", "a=b c", "x=y z" }));
}

TEST(ParseKernelCmdline, InnerQuotes_KeptAsTheKernelKeepsThem)
{
    auto cmdline = parse_kernel_cmdline(R"(-- ab"c d"e)");

    EXPECT_EQ(cmdline.init_arguments, (std::vector<std::string> { R"(ab"c d"e)" }));
}

TEST(ParseKernelCmdline, SecondSeparator_DropsTheRestLikeTheKernel)
{
    auto cmdline = parse_kernel_cmdline("a -- one -- two");

    EXPECT_EQ(cmdline.init_arguments, (std::vector<std::string> { "one" }));
}

TEST(ParseKernelCmdline, NoSeparator_HasNoInitArguments)
{
    auto cmdline = parse_kernel_cmdline("  console=ttyS0\t\tquiet  ");

    EXPECT_FALSE(cmdline.has_separator);
    EXPECT_EQ(cmdline.parameters.size(), 2u);
    EXPECT_TRUE(cmdline.init_arguments.empty());
}

TEST(ParseKernelCmdline, HostileText_NeverCrashes)
{
    using namespace std::string_view_literals;
    for (auto text : { ""sv, "\""sv, "\"\""sv, "="sv, "\"="sv, "a=\""sv, "\"a=\""sv, "--"sv, "-- \""sv, "a\0b -- c"sv,
             "\"unterminated -- x"sv, "\xa0--\xa0x"sv }) {
        auto cmdline = parse_kernel_cmdline(text);
        EXPECT_LE(cmdline.parameters.size(), text.size());
    }
    EXPECT_EQ(parse_kernel_cmdline("a\0 -- b"sv).has_separator, false);
    EXPECT_EQ(parse_kernel_cmdline("\xa0--\xa0x").init_arguments, (std::vector<std::string> { "x" }));
}

TEST(TestCrashHook, ParameterBeforeSeparator_IsPanic)
{
    EXPECT_EQ(test_crash_hook(parse_kernel_cmdline("quiet husk.test_crash=panic -- /bin/true")), TestCrashHook::Panic);
    EXPECT_EQ(test_crash_hook(parse_kernel_cmdline("husk.test-crash=panic")), TestCrashHook::Panic);
}

TEST(TestCrashHook, AfterSeparatorOrOtherValue_IsNone)
{
    EXPECT_EQ(test_crash_hook(parse_kernel_cmdline("-- echo husk.test_crash=panic")), TestCrashHook::None);
    EXPECT_EQ(test_crash_hook(parse_kernel_cmdline("husk.test_crash=oops")), TestCrashHook::None);
    EXPECT_EQ(test_crash_hook(parse_kernel_cmdline("husk.test_crash")), TestCrashHook::None);
    EXPECT_EQ(test_crash_hook(parse_kernel_cmdline("xhusk.test_crash=panic")), TestCrashHook::None);
}

TEST(FindParameter, Repeated_LastOneWins)
{
    auto cmdline = parse_kernel_cmdline("husk.test_crash=panic husk.test_crash=no");

    EXPECT_EQ(find_parameter(cmdline, "husk.test_crash"), "no");
}

TEST(JobArguments, UnknownBootWordsInArgv_TakesOnlyTheTail)
{
    // The kernel puts the unknown word `nosmt2` into init's argv before the words after `--`.
    auto cmdline = parse_kernel_cmdline("nosmt2 -- /bin/echo hi");
    std::vector<std::string> argv { "/init", "nosmt2", "/bin/echo", "hi" };

    EXPECT_EQ(job_arguments(argv, &cmdline), (std::vector<std::string> { "/bin/echo", "hi" }));
}

TEST(JobArguments, NoSeparator_IsEmpty)
{
    auto cmdline = parse_kernel_cmdline("console=ttyS0 nosmt2");
    std::vector<std::string> argv { "/init", "nosmt2" };

    EXPECT_TRUE(job_arguments(argv, &cmdline).empty());
}

TEST(JobArguments, MismatchOrNoCmdline_FallsBackToArgv)
{
    auto cmdline = parse_kernel_cmdline("-- /bin/other");
    std::vector<std::string> argv { "/init", "/bin/echo", "hi" };

    EXPECT_EQ(job_arguments(argv, &cmdline), (std::vector<std::string> { "/bin/echo", "hi" }));
    EXPECT_EQ(job_arguments(argv, nullptr), (std::vector<std::string> { "/bin/echo", "hi" }));
    EXPECT_TRUE(job_arguments({}, nullptr).empty());
}

TEST(KernelCmdline, PrintableValue_EscapesControlBytesOnly)
{
    EXPECT_EQ(printable_value("9p:root"), "9p:root");
    EXPECT_EQ(printable_value("a\nb\x7f\x01 \xa0"), "a\\x0ab\\x7f\\x01 \xa0");
}
