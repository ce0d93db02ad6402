// Whether a sandbox is jailed (JailMode and root), and the husk-vmm arguments for a jailed one.
#include "sdk/cli/doctor.hpp"
#include "sdk/src/jail_decision.hpp"
#include "sdk/src/sandbox_jail.hpp"

#include <gtest/gtest.h>

namespace husk::detail {
namespace {

    TEST(JailDecision, AutoAsRoot_IsJailed)
    {
        auto decision = decide_jail(JailMode::Auto, 0);

        ASSERT_TRUE(decision);
        EXPECT_TRUE(decision->jailed);
    }

    TEST(JailDecision, AutoAsUser_IsUnjailedAndSaysWhy)
    {
        auto decision = decide_jail(JailMode::Auto, 1000);

        ASSERT_TRUE(decision);
        EXPECT_FALSE(decision->jailed);
        EXPECT_NE(decision->reason.find("not running as root"), std::string::npos) << decision->reason;
        EXPECT_NE(decision->reason.find("seccomp on"), std::string::npos) << decision->reason;
    }

    TEST(JailDecision, RequiredAsUser_FailsWithBadConfig)
    {
        auto decision = decide_jail(JailMode::Required, 1000);

        ASSERT_FALSE(decision);
        EXPECT_EQ(decision.error().kind, ErrorKind::BadConfig);
        EXPECT_NE(decision.error().message.find("not root (uid 1000)"), std::string::npos) << decision.error().message;
    }

    TEST(JailDecision, RequiredAsRoot_IsJailed)
    {
        auto decision = decide_jail(JailMode::Required, 0);

        ASSERT_TRUE(decision);
        EXPECT_TRUE(decision->jailed);
    }

    TEST(JailDecision, OffAsRoot_IsUnjailed)
    {
        auto decision = decide_jail(JailMode::Off, 0);

        ASSERT_TRUE(decision);
        EXPECT_FALSE(decision->jailed);
        EXPECT_NE(decision->reason.find("debugging"), std::string::npos);
    }

    TEST(JailDecision, DefaultOptions_AreAuto)
    {
        SandboxOptions options;

        EXPECT_EQ(options.jail, JailMode::Auto);
    }

    TEST(JailVmmArguments, Jail_MapsToHuskVmmFlags)
    {
        auto arguments = jail_vmm_arguments("/run/husk/jail", "husk-1900000003", 1900000003);

        EXPECT_EQ(arguments,
            (std::vector<std::string> { "--jail", "/run/husk/jail", "--jail-id", "husk-1900000003", "--jail-uid",
                "1900000003", "--jail-gid", "1900000003" }));
    }

    TEST(JailIdRangeDefault, LiesInTheBlockNoAccountUses)
    {
        // systemd leaves 1879048192..2147352575 unassigned; ids are never 0 nor (uid_t)-1.
        EXPECT_GE(jail_id_range.first, 1879048192u);
        EXPECT_LE(uint64_t(jail_id_range.first) + jail_id_range.count - 1, 2147352575u);
    }

    TEST(JailFinding, Root_SaysJailed)
    {
        auto finding = cli::jail_finding(0);

        EXPECT_EQ(finding.verdict, cli::Verdict::Ok);
        EXPECT_NE(finding.detail.find("VMs will be jailed"), std::string::npos) << finding.detail;
    }

    TEST(JailFinding, User_WarnsAndSaysWhyNot)
    {
        auto finding = cli::jail_finding(1000);

        EXPECT_EQ(finding.verdict, cli::Verdict::Warn);
        EXPECT_NE(finding.detail.find("VMs will run unjailed: not running as root"), std::string::npos)
            << finding.detail;
    }

} // namespace
} // namespace husk::detail
