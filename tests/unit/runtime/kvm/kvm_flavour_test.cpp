// KVM flavour detection against a fake sysfs tree, and the PVM refusal policy.
#include "runtime/kvm/kvm.hpp"
#include "runtime/kvm/kvm_flavour.hpp"

#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <string>

using namespace husk;

namespace {
// A throwaway directory standing in for /sys; removed by the destructor.
class FakeSysfs {
public:
    FakeSysfs()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "husk-sysfs-XXXXXX").string();
        char* made = ::mkdtemp(pattern.data());
        EXPECT_NE(made, nullptr);
        m_root = pattern;
    }
    ~FakeSysfs()
    {
        std::error_code ignored;
        std::filesystem::remove_all(m_root, ignored);
    }
    void add_module(char const* name) { std::filesystem::create_directories(m_root / "module" / name); }
    std::string root() const { return m_root.string(); }

private:
    std::filesystem::path m_root;
};
} // namespace

TEST(DetectKvmFlavour, NoModules_IsUnknown)
{
    FakeSysfs sysfs;
    EXPECT_EQ(detect_kvm_flavour(sysfs.root()), KvmFlavour::Unknown);
}

TEST(DetectKvmFlavour, KvmIntel_IsHardware)
{
    FakeSysfs sysfs;
    sysfs.add_module("kvm");
    sysfs.add_module("kvm_intel");
    EXPECT_EQ(detect_kvm_flavour(sysfs.root()), KvmFlavour::Hardware);
}

TEST(DetectKvmFlavour, KvmAmd_IsHardware)
{
    FakeSysfs sysfs;
    sysfs.add_module("kvm_amd");
    EXPECT_EQ(detect_kvm_flavour(sysfs.root()), KvmFlavour::Hardware);
}

TEST(DetectKvmFlavour, KvmPvmAlone_IsPvm)
{
    FakeSysfs sysfs;
    sysfs.add_module("kvm");
    sysfs.add_module("kvm_pvm");
    EXPECT_EQ(detect_kvm_flavour(sysfs.root()), KvmFlavour::Pvm);
}

TEST(DetectKvmFlavour, PvmBesideHardwareModule_IsHardware)
{
    FakeSysfs sysfs;
    sysfs.add_module("kvm_pvm");
    sysfs.add_module("kvm_amd");
    EXPECT_EQ(detect_kvm_flavour(sysfs.root()), KvmFlavour::Hardware);
}

TEST(DetectKvmFlavour, MissingRoot_IsUnknown)
{
    EXPECT_EQ(detect_kvm_flavour("/nonexistent-husk-sysfs-root"), KvmFlavour::Unknown);
}

TEST(CheckKvmFlavour, PvmWithoutOverride_IsRefusedNamingTheLab)
{
    auto result = check_kvm_flavour(KvmFlavour::Pvm, PvmPolicy::FromEnvironment, nullptr);
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("PVM"), std::string::npos);
    EXPECT_NE(result.error().message.find("tests/lab/run"), std::string::npos);
    EXPECT_NE(result.error().message.find("HUSK_ALLOW_PVM=1"), std::string::npos);
}

TEST(CheckKvmFlavour, PvmWithEnvironmentOverride_IsAllowed)
{
    EXPECT_TRUE(check_kvm_flavour(KvmFlavour::Pvm, PvmPolicy::FromEnvironment, "1"));
    EXPECT_FALSE(check_kvm_flavour(KvmFlavour::Pvm, PvmPolicy::FromEnvironment, "0"));
    EXPECT_FALSE(check_kvm_flavour(KvmFlavour::Pvm, PvmPolicy::FromEnvironment, "yes"));
}

TEST(CheckKvmFlavour, ExplicitPolicies_IgnoreEnvironment)
{
    EXPECT_TRUE(check_kvm_flavour(KvmFlavour::Pvm, PvmPolicy::Allow, nullptr));
    EXPECT_FALSE(check_kvm_flavour(KvmFlavour::Pvm, PvmPolicy::Refuse, "1"));
}

TEST(CheckKvmFlavour, HardwareAndUnknown_AreAccepted)
{
    EXPECT_TRUE(check_kvm_flavour(KvmFlavour::Hardware, PvmPolicy::Refuse, nullptr));
    EXPECT_TRUE(check_kvm_flavour(KvmFlavour::Unknown, PvmPolicy::Refuse, nullptr));
}

TEST(KvmOpenError, MissingDevice_PointsToModulesAndLab)
{
    auto error = kvm_open_error(ENOENT);
    EXPECT_NE(error.message.find("no KVM"), std::string::npos);
    EXPECT_NE(error.message.find("kvm_intel or kvm_amd"), std::string::npos);
    EXPECT_NE(error.message.find("tests/lab/run"), std::string::npos);
}

TEST(KvmOpenError, PermissionDenied_PointsToKvmGroup)
{
    auto error = kvm_open_error(EACCES);
    EXPECT_NE(error.message.find("kvm group"), std::string::npos);
    EXPECT_EQ(error.errno_value, EACCES);
}

TEST(KvmOpenError, OtherErrno_NamesTheSystemError)
{
    EXPECT_NE(kvm_open_error(EBUSY).message.find("open /dev/kvm"), std::string::npos);
}
