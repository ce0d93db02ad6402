// husk doctor: KVM flavour detection from /sys/module and what each flavour tells the user.
#include "sdk/cli/doctor.hpp"

#include <filesystem>
#include <gtest/gtest.h>

namespace husk::cli {
namespace {

    class KvmFlavourTest : public ::testing::Test {
    protected:
        void SetUp() override
        {
            char pattern[] = "/tmp/husk-doctor-test-XXXXXX";
            ASSERT_NE(mkdtemp(pattern), nullptr);
            modules = pattern;
        }
        void TearDown() override { std::filesystem::remove_all(modules); }
        void load(char const* name) { std::filesystem::create_directory(modules + "/" + name); }
        std::string modules;
    };

    TEST_F(KvmFlavourTest, KvmAmdOrIntel_IsHardware)
    {
        load("kvm");
        load("kvm_amd");
        EXPECT_EQ(kvm_flavour(modules), KvmFlavour::Hardware);
    }

    TEST_F(KvmFlavourTest, KvmPvm_IsPvm)
    {
        load("kvm");
        load("kvm_pvm");
        EXPECT_EQ(kvm_flavour(modules), KvmFlavour::Pvm);
    }

    TEST_F(KvmFlavourTest, NoModule_IsNone) { EXPECT_EQ(kvm_flavour(modules), KvmFlavour::None); }

    TEST(KvmFlavourFinding, Pvm_FailsAndPointsToTheLab)
    {
        auto finding = kvm_flavour_finding(KvmFlavour::Pvm, "");

        EXPECT_EQ(finding.verdict, Verdict::Fail);
        EXPECT_NE(finding.detail.find("tests/lab/run"), std::string::npos);
    }

    TEST(KvmFlavourFinding, Hardware_IsOkAndNamesTheModule)
    {
        auto finding = kvm_flavour_finding(KvmFlavour::Hardware, "kvm_intel");

        EXPECT_EQ(finding.verdict, Verdict::Ok);
        EXPECT_NE(finding.detail.find("kvm_intel"), std::string::npos);
    }

} // namespace
} // namespace husk::cli
