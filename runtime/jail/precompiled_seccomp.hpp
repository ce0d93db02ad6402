// The thread kinds' seccomp filters compiled to classic BPF at build time (seccomp_compiler.cpp
// runs libseccomp on the allow-lists and writes the programs into a generated source), so a
// thread only loads its program at start: no libseccomp, no allocation of rule databases, no
// compilation on the path to the first KVM_RUN. The main thread's program names two run-time
// values (MainThreadValues); the compiler builds it with placeholders and records where they
// sit, and instantiate() writes the real ones in. The event thread of a VM with shares gets the
// same treatment: its extra file-sharing rules name descriptors opened at run time, two per
// share, so there is one program per number of shares (1 to max_precompiled_shares) and per
// FileSharingOwners, each with a placeholder per descriptor. Compiling them with libseccomp at
// start cost 134-166 ms per VM under the lab's TCG (docs/benchmarks.md). A unit test proves each
// instantiated program equals what libseccomp makes of the current lists, so the two cannot
// drift apart.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/jail/allow_lists.hpp"
#include "runtime/jail/thread_kind.hpp"

#include <cstdint>
#include <linux/filter.h>
#include <span>
#include <vector>

namespace husk {

// Values no real pid (at most 2^22) or signal number is, and no constant in the lists.
inline constexpr uint32_t seccomp_pid_placeholder = 0x7e11'd00d;
inline constexpr uint32_t seccomp_kick_signal_placeholder = 0x5195'a1ed;

struct PrecompiledFilter {
    std::span<sock_filter const> program;
    // Instructions whose constant (k) is a placeholder, to be replaced at load time.
    std::span<uint16_t const> pid_slots;
    std::span<uint16_t const> kick_signal_slots;
};

// Defined in the generated source.
PrecompiledFilter precompiled_filter(ThreadKind kind);

// The program with the run-time values in place of the placeholders.
std::vector<sock_filter> instantiate(PrecompiledFilter const& filter, MainThreadValues values);

// husk-vmm's limit on shares per VM (runtime/main/share_option.hpp checks that it fits).
inline constexpr size_t max_precompiled_shares = 8;

// The descriptors in the programs compiled for shares, by rank (ShareDescriptorSlot): values
// no descriptor (at most fs.nr_open, below 2^30) is, and no constant in the lists.
inline constexpr uint32_t seccomp_share_root_placeholder(size_t share)
{
    return 0x7e5a'0100 + static_cast<uint32_t>(share);
}
inline constexpr uint32_t seccomp_share_proc_fds_placeholder(size_t share)
{
    return 0x7e5a'0200 + static_cast<uint32_t>(share);
}

// An instruction whose constant is a share descriptor: placeholder `rank`'s. libseccomp orders
// a syscall's alternatives by their values, so a program's layout follows the order of the
// descriptors, not of the shares: the placeholders ascend with their rank, and instantiate()
// gives the rank-th smallest root (or /proc/self/fd) descriptor to rank `rank`. The program is
// then exactly what libseccomp makes of the real descriptors (and the same set of comparisons
// whatever the order).
struct ShareDescriptorSlot {
    uint16_t instruction { 0 };
    uint16_t rank { 0 };
};

// The event thread's program for a VM with `shares` shares: its list plus file_sharing_rules.
struct PrecompiledShareFilter {
    std::span<sock_filter const> program; // empty: no program for that many shares
    std::span<ShareDescriptorSlot const> root_slots;
    std::span<ShareDescriptorSlot const> proc_fds_slots;
    size_t shares { 0 };
};

// Defined in the generated source; an empty program past max_precompiled_shares.
PrecompiledShareFilter precompiled_share_filter(size_t shares, FileSharingOwners owners);

// The program with the shares' descriptors in place of the placeholders; fails when there is no
// program for that many shares or `descriptors` does not give each share both of its own.
Result<std::vector<sock_filter>> instantiate(
    PrecompiledShareFilter const& filter, FileSharingDescriptors const& descriptors);

// Sets no_new_privs and loads `program` on the calling thread only (seccomp(2),
// SECCOMP_SET_MODE_FILTER, no flags: what libseccomp's seccomp_load does with our attributes).
Result<void> load_seccomp_program(std::span<sock_filter const> program);

} // namespace husk
