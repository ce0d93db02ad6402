// VmCgroup: creation, limits and membership on cgroup v1 and v2.
#include "runtime/jail/cgroup.hpp"

#include "runtime/jail/jail_path.hpp"

#include <array>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace husk {

namespace {
    constexpr mode_t cgroup_mode = 0755;
    constexpr uint64_t cpu_period_us = 100'000;
    constexpr std::array<char const*, 3> v1_controllers { "memory", "pids", "cpu" };

    Result<Fd> open_directory(int at, std::string const& name, std::string const& shown)
    {
        int fd = ::openat(at, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return fail_errno("opening the cgroup \"" + shown + "\"");
        return Fd(fd);
    }

    Result<Fd> make_directory(int at, std::string const& name, std::string const& shown, bool must_be_new)
    {
        if (::mkdirat(at, name.c_str(), cgroup_mode) != 0 && (must_be_new || errno != EEXIST))
            return fail_errno("creating the cgroup \"" + shown + "\"");
        return open_directory(at, name, shown);
    }

    Result<void> write_file(int directory, char const* name, std::string const& value, std::string const& shown)
    {
        int fd = ::openat(directory, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return fail_errno("opening " + shown + "/" + name);
        Fd file(fd);
        if (::write(file.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size()))
            return fail_errno("writing \"" + value + "\" to " + shown + "/" + name);
        return {};
    }

    bool has_file(int directory, char const* name) { return ::faccessat(directory, name, F_OK, 0) == 0; }

    Result<void> write_v2_limits(int directory, CgroupLimits const& limits, std::string const& shown)
    {
        TRY(write_file(directory, "memory.max", std::to_string(limits.memory_bytes), shown));
        if (has_file(directory, "memory.swap.max"))
            TRY(write_file(directory, "memory.swap.max", "0", shown));
        TRY(write_file(directory, "pids.max", std::to_string(limits.max_tasks), shown));
        uint64_t quota = limits.cpu_millis * cpu_period_us / 1000;
        TRY(write_file(directory, "cpu.max", std::to_string(quota) + " " + std::to_string(cpu_period_us), shown));
        return {};
    }

    Result<void> write_v1_limits(
        char const* controller, int directory, CgroupLimits const& limits, std::string const& shown)
    {
        std::string_view name = controller;
        if (name == "memory") {
            TRY(write_file(directory, "memory.limit_in_bytes", std::to_string(limits.memory_bytes), shown));
            // Same bound for memory plus swap: no swap on top (present only with swap accounting).
            if (has_file(directory, "memory.memsw.limit_in_bytes"))
                TRY(write_file(directory, "memory.memsw.limit_in_bytes", std::to_string(limits.memory_bytes), shown));
        } else if (name == "pids") {
            TRY(write_file(directory, "pids.max", std::to_string(limits.max_tasks), shown));
        } else {
            TRY(write_file(directory, "cpu.cfs_period_us", std::to_string(cpu_period_us), shown));
            TRY(write_file(
                directory, "cpu.cfs_quota_us", std::to_string(limits.cpu_millis * cpu_period_us / 1000), shown));
        }
        return {};
    }

    // One controller's <root>/<controller>/<parent>/<vm-id>, with its limits written.
    Result<std::pair<Fd, std::string>> create_v1(std::string const& root, char const* controller,
        std::string const& parent, std::string const& vm_id, CgroupLimits const& limits)
    {
        std::string hierarchy = root + "/" + controller;
        // The controller mount may be a link such as cpu -> cpu,cpuacct: the root is trusted.
        auto hierarchy_fd = TRY_CONTEXT(Fd::open(hierarchy, O_PATH | O_DIRECTORY | O_CLOEXEC), "cgroup v1 hierarchy");
        auto parent_fd = TRY(make_directory(hierarchy_fd.get(), parent, hierarchy + "/" + parent, false));
        std::string path = hierarchy + "/" + parent + "/" + vm_id;
        auto directory = TRY(make_directory(parent_fd.get(), vm_id, path, true));
        if (auto written = write_v1_limits(controller, directory.get(), limits, path); !written) {
            ::rmdir(path.c_str());
            return unexpected(std::move(written).error());
        }
        return std::pair<Fd, std::string>(std::move(directory), std::move(path));
    }

    Result<void> check_names(std::string const& parent, std::string const& vm_id)
    {
        TRY_CONTEXT(validate_vm_id(parent), "cgroup parent name");
        TRY(validate_vm_id(vm_id));
        return {};
    }
} // namespace

Result<VmCgroup> VmCgroup::create(
    std::string const& root, std::string const& parent, std::string const& vm_id, CgroupLimits const& limits)
{
    TRY(check_names(parent, vm_id));
    if (limits.memory_bytes == 0 || limits.max_tasks == 0 || limits.cpu_millis == 0)
        return fail("cgroup limits must all be set (memory, tasks, cpu)");
    auto version = TRY(detect_cgroup_version(root));
    auto root_fd = TRY_CONTEXT(Fd::open(root, O_PATH | O_DIRECTORY | O_CLOEXEC), "cgroup root");

    std::vector<Fd> directories;
    std::vector<std::string> paths;
    if (version == CgroupVersion::V2) {
        std::string parent_path = root + "/" + parent;
        // Controllers reach a cgroup only when every ancestor delegates them.
        TRY(write_file(root_fd.get(), "cgroup.subtree_control", "+memory +pids +cpu", root));
        auto parent_fd = TRY(make_directory(root_fd.get(), parent, parent_path, false));
        TRY(write_file(parent_fd.get(), "cgroup.subtree_control", "+memory +pids +cpu", parent_path));
        std::string path = parent_path + "/" + vm_id;
        auto directory = TRY(make_directory(parent_fd.get(), vm_id, path, true));
        if (auto written = write_v2_limits(directory.get(), limits, path); !written) {
            ::rmdir(path.c_str());
            return unexpected(std::move(written).error());
        }
        directories.push_back(std::move(directory));
        paths.push_back(path);
    } else {
        for (auto const* controller : v1_controllers) {
            auto created = create_v1(root, controller, parent, vm_id, limits);
            if (!created) {
                // Do not leave the controllers already done behind a failed creation.
                for (auto const& path : paths)
                    ::rmdir(path.c_str());
                return unexpected(std::move(created).error());
            }
            paths.push_back(created->second);
            directories.push_back(std::move(created->first));
        }
    }
    return VmCgroup(version, std::move(directories), std::move(paths));
}

Result<void> VmCgroup::add_process(pid_t pid)
{
    for (size_t i = 0; i < m_directories.size(); ++i)
        TRY(write_file(m_directories[i].get(), "cgroup.procs", std::to_string(pid), m_paths[i]));
    return {};
}

} // namespace husk
