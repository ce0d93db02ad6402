// The built husk binary's front door: --version and version, an unknown command, and doctor's
// version and asset lines with assets given through the environment.
#include "tests/unit/testing/scratch_dir.hpp"
#include "husk/version.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>

namespace {

struct Outcome {
    int status { -1 };
    std::string out;
    std::string err;
};

class CliBinary : public ::testing::Test {
protected:

    // `environment` is prepended as NAME=value words for env(1); arguments are simple words.
    Outcome husk(std::string const& arguments, std::string const& environment = "")
    {
        std::string command = "env " + environment + " " + HUSK_CLI_PATH + " " + arguments + " >" + dir + "/out 2>"
            + dir + "/err </dev/null";
        int raw = std::system(command.c_str());
        Outcome outcome;
        outcome.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
        outcome.out = slurp(dir + "/out");
        outcome.err = slurp(dir + "/err");
        return outcome;
    }
    static std::string slurp(std::string const& path)
    {
        std::ostringstream text;
        text << std::ifstream(path).rdbuf();
        return text.str();
    }
    husk::test_support::ScratchDir scratch { "husk-cli-binary" };
    std::string const dir { scratch.path() };
};

TEST_F(CliBinary, VersionFlagAndCommand_PrintTheVersion)
{
    auto expected
        = "husk " + std::string(husk::version()) + " (job protocol " + std::to_string(husk::protocol_version()) + ")\n";
    for (auto const* arguments : { "--version", "version", "-V" }) {
        auto outcome = husk(arguments);
        EXPECT_EQ(outcome.status, 0) << arguments;
        EXPECT_EQ(outcome.out, expected) << arguments;
        EXPECT_EQ(outcome.err, "") << arguments;
    }
}

TEST_F(CliBinary, UnknownCommand_SaysSoAndPointsToHelp)
{
    auto outcome = husk("frobnicate -- true");

    EXPECT_EQ(outcome.status, 125);
    EXPECT_EQ(outcome.out, "");
    EXPECT_EQ(outcome.err, "husk: unknown command 'frobnicate' (see husk --help)\n");
}

TEST_F(CliBinary, Doctor_ReportsTheVersionAndEachAssetPathWithWhetherItExists)
{
    std::filesystem::create_directory(dir + "/assets");
    std::ofstream(dir + "/assets/vmlinux") << "k";
    std::ofstream(dir + "/assets/tiny.ext4") << "r";
    std::ofstream(dir + "/husk-vmm") << "#!/bin/sh\n";
    chmod((dir + "/husk-vmm").c_str(), 0755);
    auto outcome = husk("doctor", "HUSK_ASSETS_DIR=" + dir + "/assets HUSK_VMM=" + dir + "/husk-vmm");

    // 1 is fine: this host may lack KVM; what matters here is what doctor says.
    EXPECT_TRUE(outcome.status == 0 || outcome.status == 1) << outcome.status;
    EXPECT_NE(outcome.out.find("version   husk " + std::string(husk::version())), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("not installed (build tree)"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("husk-vmm  " + dir + "/husk-vmm (HUSK_VMM, exists)"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("kernel    " + dir + "/assets/vmlinux (HUSK_ASSETS_DIR, exists)"), std::string::npos)
        << outcome.out;
    // No initramfs in HUSK_ASSETS_DIR: found in the build tree (when built), or a failure naming
    // every path tried, HUSK_ASSETS_DIR's first.
    bool from_build_tree = outcome.out.find("initramfs.cpio (build tree, exists)") != std::string::npos;
    bool missing
        = outcome.out.find("initramfs not found: " + dir + "/assets/initramfs.cpio (missing)") != std::string::npos;
    EXPECT_TRUE(from_build_tree || missing) << outcome.out;
    EXPECT_NE(outcome.out.find("tiny (" + dir + "/assets/tiny.ext4)"), std::string::npos) << outcome.out;
}

} // namespace
