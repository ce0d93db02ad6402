// Filling in the run-time values of a precompiled filter, and loading a BPF program.
#include "runtime/jail/precompiled_seccomp.hpp"

#include <algorithm>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace husk {

std::vector<sock_filter> instantiate(PrecompiledFilter const& filter, MainThreadValues values)
{
    std::vector<sock_filter> program(filter.program.begin(), filter.program.end());
    for (auto slot : filter.pid_slots)
        program.at(slot).k = values.pid;
    for (auto slot : filter.kick_signal_slots)
        program.at(slot).k = values.kick_signal;
    return program;
}

Result<std::vector<sock_filter>> instantiate(
    PrecompiledShareFilter const& filter, FileSharingDescriptors const& descriptors)
{
    size_t shares = descriptors.share_roots.size();
    if (filter.program.empty())
        return fail("no seccomp program was compiled for " + std::to_string(shares) + " shares (at most "
            + std::to_string(max_precompiled_shares) + ")");
    if (shares != filter.shares || descriptors.proc_fd_directories.size() != filter.shares)
        return fail("the seccomp program for " + std::to_string(filter.shares) + " shares was given "
            + std::to_string(shares) + " share roots and " + std::to_string(descriptors.proc_fd_directories.size())
            + " /proc/self/fd descriptors");
    // By rank: the smallest descriptor where libseccomp put the smallest placeholder.
    auto ascending = [](std::vector<int> values) {
        std::sort(values.begin(), values.end());
        return values;
    };
    auto roots = ascending(descriptors.share_roots);
    auto proc_fds = ascending(descriptors.proc_fd_directories);
    std::vector<sock_filter> program(filter.program.begin(), filter.program.end());
    for (auto slot : filter.root_slots)
        program.at(slot.instruction).k = static_cast<uint32_t>(roots.at(slot.rank));
    for (auto slot : filter.proc_fds_slots)
        program.at(slot.instruction).k = static_cast<uint32_t>(proc_fds.at(slot.rank));
    return program;
}

Result<void> load_seccomp_program(std::span<sock_filter const> program)
{
    if (program.empty() || program.size() > BPF_MAXINSNS)
        return fail("a seccomp program needs 1 to " + std::to_string(BPF_MAXINSNS) + " instructions, not "
            + std::to_string(program.size()));
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return fail_errno("prctl(PR_SET_NO_NEW_PRIVS)");
    sock_fprog fprog { static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data()) };
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0)
        return fail_errno("loading the seccomp filter");
    return {};
}

} // namespace husk
