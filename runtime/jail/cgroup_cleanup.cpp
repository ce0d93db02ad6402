// remove_vm_cgroup: kill what is left in a VM's cgroup, wait for it to empty, remove it.
#include "runtime/jail/cgroup.hpp"

#include "runtime/jail/jail_path.hpp"

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace husk {

namespace {
    using namespace std::chrono_literals;
    // How long the killed processes of a cgroup get to exit before removal is reported failed.
    constexpr auto empty_wait = 5s;

    std::vector<pid_t> members(std::string const& path)
    {
        std::vector<pid_t> pids;
        auto text = read_file(path + "/cgroup.procs", 1 << 20);
        if (!text)
            return pids;
        std::istringstream lines(*text);
        long pid = 0;
        while (lines >> pid) {
            if (pid > 0)
                pids.push_back(static_cast<pid_t>(pid));
        }
        return pids;
    }

    Result<void> empty_and_remove(std::string const& path)
    {
        if (::access(path.c_str(), F_OK) != 0)
            return {}; // already gone
        auto deadline = std::chrono::steady_clock::now() + empty_wait;
        for (;;) {
            auto left = members(path);
            if (left.empty() && ::rmdir(path.c_str()) == 0)
                return {};
            if (left.empty() && errno != EBUSY)
                return fail_errno("removing the cgroup \"" + path + "\"");
            for (pid_t pid : left)
                ::kill(pid, SIGKILL);
            if (std::chrono::steady_clock::now() >= deadline)
                return fail("the cgroup \"" + path + "\" still holds " + std::to_string(left.size())
                    + " process(es) after SIGKILL");
            std::this_thread::sleep_for(10ms);
        }
    }
} // namespace

Result<void> remove_vm_cgroup(std::string const& root, std::string const& parent, std::string const& vm_id)
{
    TRY_CONTEXT(validate_vm_id(parent), "cgroup parent name");
    TRY(validate_vm_id(vm_id));
    auto version = TRY(detect_cgroup_version(root));
    if (version == CgroupVersion::V2)
        return empty_and_remove(root + "/" + parent + "/" + vm_id);
    for (auto const* controller : { "memory", "pids", "cpu" })
        TRY(empty_and_remove(root + "/" + controller + "/" + parent + "/" + vm_id));
    return {};
}

} // namespace husk
