// Where libhusk and husk look for husk-vmm and the guest assets: installed code uses its own
// installation (found from where it runs, whatever the prefix) and never the build tree; code in
// the build tree uses the build tree first; the environment variables win over both.
#include "sdk/src/assets.hpp"

#include <gtest/gtest.h>

namespace husk::detail {
namespace {

    SearchInputs inputs(std::string self_path)
    {
        return {
            .self_path = std::move(self_path),
            .env_assets_dir = {},
            .env_vmm = {},
            .env_path = "/usr/local/bin:relative/bin:/usr/bin",
            .build_assets_dir = "/src/husk/build/assets",
            .build_vmm = "/src/husk/build/runtime/main/husk-vmm",
            .install_prefix = "/usr",
            .install_bindir = "bin",
            .install_libdir = "lib/x86_64-linux-gnu",
            .install_assets_dir = "lib/husk",
        };
    }

    std::vector<std::string> paths(std::vector<Candidate> const& candidates)
    {
        std::vector<std::string> result;
        for (auto const& candidate : candidates)
            result.push_back(candidate.path + " [" + candidate.origin + "]");
        return result;
    }

    TEST(InstalledPrefix, FromTheCliOrTheLibraryLocation)
    {
        EXPECT_EQ(installed_prefix("/usr/bin/husk", "/usr", "bin", "lib/x86_64-linux-gnu"), "/usr");
        EXPECT_EQ(
            installed_prefix("/usr/lib/x86_64-linux-gnu/libhusk.so.1", "/usr", "bin", "lib/x86_64-linux-gnu"), "/usr");
        EXPECT_EQ(installed_prefix("/opt/husk/bin/husk", "/usr", "bin", "lib"), "/opt/husk");
        EXPECT_EQ(installed_prefix("/bin/husk", "/usr", "bin", "lib"), "/");
        EXPECT_EQ(installed_prefix("/etc/husk", "/usr", "/etc", "lib"), "/usr"); // an absolute bindir
        EXPECT_FALSE(installed_prefix("/src/husk/build/sdk/cli/husk", "/usr", "bin", "lib"));
        EXPECT_FALSE(installed_prefix("/src/husk/build/tests/unit/husk_unit_tests", "/usr", "bin", "lib"));
        EXPECT_FALSE(installed_prefix("husk", "/usr", "bin", "lib"));
        EXPECT_FALSE(installed_prefix("", "/usr", "bin", "lib"));
    }

    TEST(AssetSearch, Installed_UsesItsOwnInstallationAndNeverTheBuildTree)
    {
        auto plan = plan_search(inputs("/usr/lib/x86_64-linux-gnu/libhusk.so.0.1.0"));

        EXPECT_EQ(plan.installed_prefix, "/usr");
        EXPECT_EQ(paths(plan.asset_directories), (std::vector<std::string> { "/usr/lib/husk [installed]" }));
        EXPECT_EQ(paths(plan.vmm_paths),
            (std::vector<std::string> {
                "/usr/bin/husk-vmm [installed]", "/usr/local/bin/husk-vmm [PATH]", "/usr/bin/husk-vmm [PATH]" }));
    }

    TEST(AssetSearch, InstalledElsewhere_FollowsTheInstallation)
    {
        auto plan = plan_search(inputs("/opt/husk/bin/husk"));

        EXPECT_EQ(plan.installed_prefix, "/opt/husk");
        EXPECT_EQ(paths(plan.asset_directories), (std::vector<std::string> { "/opt/husk/lib/husk [installed]" }));
        EXPECT_EQ(paths(plan.vmm_paths).front(), "/opt/husk/bin/husk-vmm [installed]");
    }

    TEST(AssetSearch, BuildTree_UsesTheBuildTreeThenTheConfiguredPrefix)
    {
        auto plan = plan_search(inputs("/src/husk/build/sdk/cli/husk"));

        EXPECT_FALSE(plan.installed_prefix);
        EXPECT_EQ(paths(plan.asset_directories),
            (std::vector<std::string> { "/src/husk/build/assets [build tree]", "/usr/lib/husk [installed]" }));
        EXPECT_EQ(paths(plan.vmm_paths),
            (std::vector<std::string> { "/src/husk/build/runtime/main/husk-vmm [build tree]",
                "/usr/bin/husk-vmm [installed]", "/usr/local/bin/husk-vmm [PATH]", "/usr/bin/husk-vmm [PATH]" }));
    }

    TEST(AssetSearch, EnvironmentVariables_ComeFirst)
    {
        auto in = inputs("/usr/bin/husk");
        in.env_assets_dir = "/srv/assets";
        in.env_vmm = "/srv/husk-vmm";
        auto plan = plan_search(in);

        EXPECT_EQ(paths(plan.asset_directories),
            (std::vector<std::string> { "/srv/assets [HUSK_ASSETS_DIR]", "/usr/lib/husk [installed]" }));
        EXPECT_EQ(paths(plan.vmm_paths).front(), "/srv/husk-vmm [HUSK_VMM]");
    }

    TEST(AssetSearch, ThisTestBinary_RunsFromTheBuildTree)
    {
        auto in = current_search_inputs();

        EXPECT_TRUE(in.self_path.starts_with("/")) << in.self_path;
        EXPECT_FALSE(plan_search(in).installed_prefix) << in.self_path;
    }

} // namespace
} // namespace husk::detail
