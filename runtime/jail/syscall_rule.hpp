// SyscallRule: one entry of a seccomp allow-list — a syscall by name, why the thread needs it,
// and optionally the argument values it is allowed with. Pure data, so the lists can be counted,
// printed and tested without loading anything into the kernel.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace husk {

// Matches when (argument[index] & mask) == value.
struct ArgMatch {
    unsigned index { 0 };
    uint64_t mask { 0 };
    uint64_t value { 0 };
};

// Integer arguments declared `int` or `unsigned int` arrive in 64-bit registers whose upper half
// the caller need not clear: compare only the low 32 bits.
inline constexpr uint64_t low_32_bits = 0xffff'ffffu;

inline ArgMatch arg_equals_32(unsigned index, uint64_t value) { return { index, low_32_bits, value }; }
inline ArgMatch arg_bits_clear(unsigned index, uint64_t bits) { return { index, bits, 0 }; }

struct SyscallRule {
    std::string_view name; // as libseccomp names it for x86-64 ("ioctl", "io_uring_enter")
    std::string_view reason; // one line: who calls it and why
    // Empty: allowed with any arguments. Otherwise allowed when any one of these matches.
    std::vector<ArgMatch> allowed_when;
    // Must all hold as well, whichever alternative above matched.
    std::vector<ArgMatch> required {};
};

using AllowList = std::span<SyscallRule const>;

} // namespace husk
