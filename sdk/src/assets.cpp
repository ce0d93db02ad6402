// Asset lookup. The build-tree locations come from compile definitions (see sdk/CMakeLists.txt).
#include "sdk/src/assets.hpp"

#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

#ifndef HUSK_BUILD_ASSETS_DIR
#define HUSK_BUILD_ASSETS_DIR ""
#endif
#ifndef HUSK_BUILD_VMM_PATH
#define HUSK_BUILD_VMM_PATH ""
#endif

namespace husk::detail {

namespace {

    bool is_regular_file(std::string const& path)
    {
        struct stat info { };
        return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
    }

    std::string environment(char const* name)
    {
        char const* value = std::getenv(name);
        return value ? value : "";
    }

    std::string join(std::vector<std::string> const& items)
    {
        std::string text;
        for (auto const& item : items)
            text += (text.empty() ? "" : ", ") + item;
        return text;
    }

    Result<std::string> find_asset(std::string const& explicit_path, char const* name, char const* option)
    {
        if (!explicit_path.empty()) {
            if (!is_regular_file(explicit_path))
                return fail(ErrorKind::BadConfig, std::string(option) + ": no such file: " + explicit_path);
            return explicit_path;
        }
        std::vector<std::string> tried;
        for (auto const& directory : asset_directories()) {
            auto path = directory + "/" + name;
            if (is_regular_file(path))
                return path;
            tried.push_back(path);
        }
        return fail(ErrorKind::BadConfig,
            std::string("guest ") + name + " not found (tried " + join(tried)
                + "); set HUSK_ASSETS_DIR or run packaging/build.sh <builddir>");
    }

} // namespace

std::vector<std::string> asset_directories()
{
    std::vector<std::string> directories;
    for (auto const& directory :
        { environment("HUSK_ASSETS_DIR"), std::string(HUSK_BUILD_ASSETS_DIR), std::string(installed_dir) }) {
        if (!directory.empty())
            directories.push_back(directory);
    }
    return directories;
}

std::vector<std::string> vmm_candidates()
{
    std::vector<std::string> candidates;
    for (auto const& path :
        { environment("HUSK_VMM"), std::string(HUSK_BUILD_VMM_PATH), std::string(installed_dir) + "/husk-vmm" }) {
        if (!path.empty())
            candidates.push_back(path);
    }
    auto search_path = environment("PATH");
    size_t start = 0;
    while (start <= search_path.size() && !search_path.empty()) {
        size_t end = search_path.find(':', start);
        if (end == std::string::npos)
            end = search_path.size();
        if (end > start && search_path[start] == '/')
            candidates.push_back(search_path.substr(start, end - start) + "/husk-vmm");
        start = end + 1;
    }
    return candidates;
}

Result<Assets> resolve_assets(SandboxOptions const& options)
{
    Assets assets;
    if (!options.vmm_path.empty()) {
        if (access(options.vmm_path.c_str(), X_OK) != 0 || !is_regular_file(options.vmm_path))
            return fail(ErrorKind::BadConfig, "husk-vmm is not an executable file: " + options.vmm_path);
        assets.vmm = options.vmm_path;
    } else {
        for (auto const& candidate : vmm_candidates()) {
            if (is_regular_file(candidate) && access(candidate.c_str(), X_OK) == 0) {
                assets.vmm = candidate;
                break;
            }
        }
        if (assets.vmm.empty())
            return fail(ErrorKind::BadConfig, "husk-vmm not found; set HUSK_VMM or install husk");
    }
    assets.kernel = TRY(find_asset(options.kernel_path, kernel_file_name, "kernel"));
    assets.initrd = TRY(find_asset(options.initrd_path, initrd_file_name, "initrd"));
    if (!options.rootfs_path.empty()) {
        // A bare name is an image from the assets; anything with a slash is a path.
        if (options.rootfs_path.find('/') == std::string::npos)
            assets.rootfs = TRY(find_asset({}, (options.rootfs_path + rootfs_suffix).c_str(), "rootfs"));
        else
            assets.rootfs = TRY(find_asset(options.rootfs_path, "root filesystem", "rootfs"));
    }
    return assets;
}

} // namespace husk::detail
