// apply_resource_limits: setrlimit for each limit, soft = hard.
#include "runtime/jail/resource_limits.hpp"

#include <sys/resource.h>

namespace husk {

namespace {
    Result<void> set_limit(int resource, char const* name, uint64_t value)
    {
        rlimit limit { static_cast<rlim_t>(value), static_cast<rlim_t>(value) };
        if (::setrlimit(resource, &limit) != 0)
            return fail_errno(std::string("setrlimit(") + name + ", " + std::to_string(value) + ")");
        return {};
    }
} // namespace

Result<void> apply_resource_limits(ResourceLimits const& limits)
{
    TRY(set_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", limits.open_files));
    TRY(set_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", limits.file_size_bytes));
    TRY(set_limit(RLIMIT_NPROC, "RLIMIT_NPROC", limits.processes));
    return {};
}

} // namespace husk
