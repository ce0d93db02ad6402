// husk doctor: KVM flavour detection from /sys/module and what each flavour tells the user; the
// version line and the asset paths it reports, found or missing.
#include "tests/unit/testing/scratch_dir.hpp"
#include "sdk/cli/doctor.hpp"

#include "husk/version.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>

namespace husk::cli {
namespace {

    class KvmFlavourTest : public ::testing::Test {
    protected:
        void load(char const* name) { std::filesystem::create_directory(modules + "/" + name); }
        test_support::ScratchDir scratch { "husk-doctor-test" };
        std::string const modules { scratch.path() };
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

    class AssetFindingsTest : public ::testing::Test {
    protected:
        void SetUp() override
        {
            std::filesystem::create_directory(dir + "/first");
            std::filesystem::create_directory(dir + "/second");
        }
        void file(std::string const& path, mode_t mode = 0644)
        {
            std::ofstream(dir + "/" + path) << "x";
            chmod((dir + "/" + path).c_str(), mode);
        }
        detail::SearchPlan plan()
        {
            detail::SearchPlan result;
            result.asset_directories = { { dir + "/first", "HUSK_ASSETS_DIR" }, { dir + "/second", "installed" } };
            result.vmm_paths = { { dir + "/first/husk-vmm", "HUSK_VMM" }, { dir + "/second/husk-vmm", "installed" } };
            result.installed_prefix = "/usr";
            return result;
        }
        Finding named(std::vector<Finding> const& findings, std::string const& check)
        {
            for (auto const& finding : findings)
                if (finding.check == check)
                    return finding;
            ADD_FAILURE() << "no finding " << check;
            return {};
        }
        test_support::ScratchDir scratch { "husk-doctor-assets" };
        std::string const dir { scratch.path() };
    };

    TEST_F(AssetFindingsTest, Found_NamesThePathWhereItComesFromAndThatItExists)
    {
        file("second/husk-vmm", 0755);
        file("second/vmlinux");
        file("first/initramfs.cpio");
        file("second/initramfs.cpio");
        file("second/debian-python.ext4");
        auto findings = asset_findings(plan());

        auto vmm = named(findings, "husk-vmm");
        EXPECT_EQ(vmm.verdict, Verdict::Ok);
        EXPECT_EQ(vmm.detail, dir + "/second/husk-vmm (installed, exists)");
        EXPECT_EQ(named(findings, "kernel").detail, dir + "/second/vmlinux (installed, exists)");
        EXPECT_EQ(named(findings, "initramfs").detail, dir + "/first/initramfs.cpio (HUSK_ASSETS_DIR, exists)");
        auto rootfs = named(findings, "rootfs");
        EXPECT_EQ(rootfs.verdict, Verdict::Ok);
        EXPECT_EQ(rootfs.detail, "debian-python (" + dir + "/second/debian-python.ext4)");
    }

    TEST_F(AssetFindingsTest, Missing_FailsListingEveryPathTried)
    {
        file("first/husk-vmm", 0644); // not executable: not usable
        auto findings = asset_findings(plan());

        auto vmm = named(findings, "husk-vmm");
        EXPECT_EQ(vmm.verdict, Verdict::Fail);
        EXPECT_NE(vmm.detail.find(dir + "/first/husk-vmm (missing), " + dir + "/second/husk-vmm (missing)"),
            std::string::npos)
            << vmm.detail;
        auto kernel = named(findings, "kernel");
        EXPECT_EQ(kernel.verdict, Verdict::Fail);
        EXPECT_NE(kernel.detail.find(dir + "/first/vmlinux (missing), " + dir + "/second/vmlinux (missing)"),
            std::string::npos)
            << kernel.detail;
        EXPECT_NE(kernel.detail.find("reinstall the husk package"), std::string::npos) << kernel.detail;
        EXPECT_EQ(named(findings, "initramfs").verdict, Verdict::Fail);
        // Root filesystem images are optional.
        EXPECT_EQ(named(findings, "rootfs").verdict, Verdict::Ok);
    }

    TEST(VersionFinding, GivesTheVersionAndWhereHuskIsInstalled)
    {
        detail::SearchPlan plan;
        plan.installed_prefix = "/usr";
        auto finding = version_finding(plan);
        EXPECT_EQ(finding.verdict, Verdict::Ok);
        EXPECT_NE(finding.detail.find("husk " + std::string(version())), std::string::npos) << finding.detail;
        EXPECT_NE(finding.detail.find("installed under /usr"), std::string::npos) << finding.detail;
        plan.installed_prefix.reset();
        EXPECT_NE(version_finding(plan).detail.find("build tree"), std::string::npos);
    }

    TEST(NetworkFinding, EverythingThere_IsOkAndNamesTheModes)
    {
        auto finding = network_finding({ true, true, true, true });
        EXPECT_EQ(finding.verdict, Verdict::Ok);
        EXPECT_NE(finding.detail.find("allow="), std::string::npos) << finding.detail;
        EXPECT_NE(finding.detail.find("--publish"), std::string::npos) << finding.detail;
    }

    TEST(NetworkFinding, EachMissingPiece_WarnsNamingTheFix)
    {
        auto no_root = network_finding({ false, true, true, true });
        EXPECT_EQ(no_root.verdict, Verdict::Warn);
        EXPECT_NE(no_root.detail.find("needs root"), std::string::npos) << no_root.detail;
        EXPECT_NE(no_root.detail.find("Debian package passt"), std::string::npos) << no_root.detail;
        auto with_passt = network_finding({ false, true, true, true, true });
        EXPECT_EQ(with_passt.verdict, Verdict::Warn);
        EXPECT_NE(with_passt.detail.find("internet through passt"), std::string::npos) << with_passt.detail;
        EXPECT_NE(with_passt.detail.find("need root"), std::string::npos) << with_passt.detail;
        EXPECT_NE(network_finding({ true, false, true, true }).detail.find("CONFIG_TUN"), std::string::npos);
        EXPECT_NE(network_finding({ true, true, false, true }).detail.find("iproute2"), std::string::npos);
        auto no_dnsmasq = network_finding({ true, true, true, false });
        EXPECT_EQ(no_dnsmasq.verdict, Verdict::Warn);
        EXPECT_NE(no_dnsmasq.detail.find("dnsmasq-base"), std::string::npos) << no_dnsmasq.detail;
    }

} // namespace
} // namespace husk::cli
