// The thread kinds' seccomp filters compiled to classic BPF at build time (seccomp_compiler.cpp
// runs libseccomp on the allow-lists and writes the programs into a generated source), so a
// thread only loads its program at start: no libseccomp, no allocation of rule databases, no
// compilation on the path to the first KVM_RUN. The main thread's program names two run-time
// values (MainThreadValues); the compiler builds it with placeholders and records where they
// sit, and instantiate() writes the real ones in. The event thread's extra file-sharing rules
// name descriptors opened at run time and vary in number, so a VM with shares still compiles
// that thread's filter at start (install_seccomp). A unit test proves each instantiated program
// equals what libseccomp makes of the current lists, so the two cannot drift apart.
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

// Sets no_new_privs and loads `program` on the calling thread only (seccomp(2),
// SECCOMP_SET_MODE_FILTER, no flags: what libseccomp's seccomp_load does with our attributes).
Result<void> load_seccomp_program(std::span<sock_filter const> program);

} // namespace husk
