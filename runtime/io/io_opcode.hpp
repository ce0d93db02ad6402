// IoOpcode: the io_uring operations a device backend may ask the event loop for. The loop's
// config lists the ones a VMM uses; only those (plus what the loop itself needs) end up in the
// ring's kernel-enforced allow-list, so a compromised VMM cannot turn the ring into a way around
// its seccomp filter (openat, connect, ... through io_uring).
#pragma once

#include <cstdint>
#include <string_view>

namespace husk {

enum class IoOpcode : uint8_t {
    Poll,
    Read,
    Write,
    ReadV,
    WriteV,
    Recv,
    Send,
    Accept,
    Fsync, // fdatasync of a block image
    Fallocate, // hole punching and zeroing for discard / write-zeroes
    Timeout,
    Cancel,
};

inline constexpr uint8_t io_opcode_count = static_cast<uint8_t>(IoOpcode::Cancel) + 1;

// The kernel's IORING_OP_* number for an opcode.
uint8_t kernel_opcode(IoOpcode opcode);
std::string_view io_opcode_name(IoOpcode opcode);

} // namespace husk
