// close_inherited_fds and clear_environment.
#include "runtime/jail/process_hygiene.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace husk {

namespace {
    Result<void> close_between(unsigned first, unsigned last)
    {
        if (first > last)
            return {};
        if (::syscall(SYS_close_range, first, last, 0) != 0)
            return fail_errno("close_range(" + std::to_string(first) + ", " + std::to_string(last) + ")");
        return {};
    }
} // namespace

Result<void> close_inherited_fds(std::span<int const> keep)
{
    std::vector<unsigned> kept;
    for (int fd : keep) {
        if (fd < 0)
            return fail("close_inherited_fds: cannot keep the invalid descriptor " + std::to_string(fd));
        kept.push_back(static_cast<unsigned>(fd));
    }
    std::sort(kept.begin(), kept.end());
    kept.erase(std::unique(kept.begin(), kept.end()), kept.end());

    unsigned next = 0;
    for (unsigned fd : kept) {
        if (fd > 0)
            TRY(close_between(next, fd - 1));
        next = fd + 1;
    }
    return close_between(next, UINT_MAX);
}

Result<void> clear_environment()
{
    // clearenv() only drops the pointers: the strings stay in memory, and the ones the process
    // started with stay readable in /proc/<pid>/environ. Wipe them first.
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry)
        std::memset(*entry, 0, std::strlen(*entry));
    if (::clearenv() != 0)
        return fail("clearenv failed");
    return {};
}

} // namespace husk
