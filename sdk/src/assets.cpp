// Asset lookup. The build-tree and install locations come from compile definitions (see
// sdk/CMakeLists.txt); which of them applies is decided at run time from where this code was
// loaded, so an installed libhusk or husk never looks into the tree it was built in, and an
// installation moved to another prefix still finds its own files.
#include "sdk/src/assets.hpp"

#include <cstdlib>
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef HUSK_BUILD_ASSETS_DIR
#define HUSK_BUILD_ASSETS_DIR ""
#endif
#ifndef HUSK_BUILD_VMM_PATH
#define HUSK_BUILD_VMM_PATH ""
#endif
#ifndef HUSK_INSTALL_PREFIX
#define HUSK_INSTALL_PREFIX "/usr"
#endif
#ifndef HUSK_INSTALL_BINDIR
#define HUSK_INSTALL_BINDIR "bin"
#endif
#ifndef HUSK_INSTALL_LIBDIR
#define HUSK_INSTALL_LIBDIR "lib"
#endif
#ifndef HUSK_INSTALL_ASSETS_DIR
#define HUSK_INSTALL_ASSETS_DIR "lib/husk"
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

    // `path` under `prefix` unless it is absolute (GNUInstallDirs allows both).
    std::string under(std::string const& prefix, std::string const& path)
    {
        if (path.starts_with('/'))
            return path;
        return prefix == "/" ? "/" + path : prefix + "/" + path;
    }

    std::string real_path(std::string const& path)
    {
        char* resolved = realpath(path.c_str(), nullptr);
        if (!resolved)
            return {};
        std::string result(resolved);
        std::free(resolved);
        return result;
    }

    // The file this function's code was loaded from. dladdr names the shared object for
    // libhusk.so; for code linked into an executable it gives argv[0], which is only usable when it
    // holds a slash, so otherwise the kernel's /proc/self/exe answers.
    std::string self_path()
    {
        Dl_info info {};
        if (dladdr(reinterpret_cast<void*>(&self_path), &info) != 0 && info.dli_fname
            && std::string_view(info.dli_fname).find('/') != std::string_view::npos) {
            if (auto path = real_path(info.dli_fname); !path.empty())
                return path;
        }
        return real_path("/proc/self/exe");
    }

    bool installed(SearchInputs const& inputs)
    {
        return installed_prefix(inputs.self_path, inputs.install_prefix, inputs.install_bindir, inputs.install_libdir)
            .has_value();
    }

    Result<std::string> find_asset(std::string const& explicit_path, std::string const& name, char const* option)
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
        auto inputs = current_search_inputs();
        return fail(ErrorKind::BadConfig,
            "guest " + name + " not found (tried " + join(tried) + "); set HUSK_ASSETS_DIR or "
                + (installed(inputs) ? "reinstall the husk package" : "run packaging/build.sh <builddir>"));
    }

} // namespace

std::optional<std::string> installed_prefix(std::string const& self_path, std::string const& install_prefix,
    std::string const& bindir, std::string const& libdir)
{
    auto slash = self_path.rfind('/');
    if (slash == std::string::npos)
        return std::nullopt;
    std::string directory = slash == 0 ? "/" : self_path.substr(0, slash);
    for (auto const& layout : { bindir, libdir }) {
        if (layout.empty())
            continue;
        if (layout.starts_with('/')) {
            if (directory == layout)
                return install_prefix;
            continue;
        }
        // <prefix>/<layout>, the prefix possibly being "/" (directory "/bin").
        std::string suffix = "/" + layout;
        if (directory == suffix)
            return std::string("/");
        if (directory.size() > suffix.size() && directory.ends_with(suffix))
            return directory.substr(0, directory.size() - suffix.size());
    }
    return std::nullopt;
}

SearchPlan plan_search(SearchInputs const& inputs)
{
    SearchPlan plan;
    if (!inputs.env_assets_dir.empty())
        plan.asset_directories.push_back({ inputs.env_assets_dir, "HUSK_ASSETS_DIR" });
    if (!inputs.env_vmm.empty())
        plan.vmm_paths.push_back({ inputs.env_vmm, "HUSK_VMM" });

    plan.installed_prefix
        = installed_prefix(inputs.self_path, inputs.install_prefix, inputs.install_bindir, inputs.install_libdir);
    // An installation uses its own files only: the tree it was built in may be gone, or be a
    // different version.
    auto prefix = plan.installed_prefix.value_or(inputs.install_prefix);
    if (!plan.installed_prefix) {
        if (!inputs.build_assets_dir.empty())
            plan.asset_directories.push_back({ inputs.build_assets_dir, "build tree" });
        if (!inputs.build_vmm.empty())
            plan.vmm_paths.push_back({ inputs.build_vmm, "build tree" });
    }
    if (!prefix.empty()) {
        plan.asset_directories.push_back({ under(prefix, inputs.install_assets_dir), "installed" });
        plan.vmm_paths.push_back({ under(under(prefix, inputs.install_bindir), vmm_file_name), "installed" });
    }

    auto const& search_path = inputs.env_path;
    size_t start = 0;
    while (start <= search_path.size() && !search_path.empty()) {
        size_t end = search_path.find(':', start);
        if (end == std::string::npos)
            end = search_path.size();
        if (end > start && search_path[start] == '/')
            plan.vmm_paths.push_back({ search_path.substr(start, end - start) + "/" + vmm_file_name, "PATH" });
        start = end + 1;
    }
    return plan;
}

SearchInputs current_search_inputs()
{
    return {
        .self_path = self_path(),
        .env_assets_dir = environment("HUSK_ASSETS_DIR"),
        .env_vmm = environment("HUSK_VMM"),
        .env_path = environment("PATH"),
        .build_assets_dir = HUSK_BUILD_ASSETS_DIR,
        .build_vmm = HUSK_BUILD_VMM_PATH,
        .install_prefix = HUSK_INSTALL_PREFIX,
        .install_bindir = HUSK_INSTALL_BINDIR,
        .install_libdir = HUSK_INSTALL_LIBDIR,
        .install_assets_dir = HUSK_INSTALL_ASSETS_DIR,
    };
}

std::vector<std::string> asset_directories()
{
    std::vector<std::string> directories;
    for (auto const& candidate : plan_search(current_search_inputs()).asset_directories)
        directories.push_back(candidate.path);
    return directories;
}

std::vector<std::string> vmm_candidates()
{
    std::vector<std::string> candidates;
    for (auto const& candidate : plan_search(current_search_inputs()).vmm_paths)
        candidates.push_back(candidate.path);
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
            assets.rootfs = TRY(find_asset({}, options.rootfs_path + rootfs_suffix, "rootfs"));
        else
            assets.rootfs = TRY(find_asset(options.rootfs_path, "root filesystem", "rootfs"));
    }
    if (!options.rootfs_dir.empty()) {
        struct stat st { };
        if (::stat(options.rootfs_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            return fail(ErrorKind::BadConfig, "rootfs_dir is not a directory: " + options.rootfs_dir);
    }
    return assets;
}

} // namespace husk::detail
