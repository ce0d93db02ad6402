// VcpuExit: why KVM_RUN returned, decoded from kvm_run into one small struct per exit kind.
// IO and MMIO data spans point into the vCPU's kvm_run page and are valid until the next run();
// for reads, the handler fills them and KVM hands the bytes to the guest on the next KVM_RUN.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <variant>

namespace husk {

enum class AccessDirection { Read, Write }; // port IN = Read, port OUT = Write

struct IoExit {
    uint16_t port { 0 };
    AccessDirection direction { AccessDirection::Read };
    uint8_t size { 0 }; // bytes per access: 1, 2 or 4
    uint32_t count { 0 }; // accesses (>1 for REP INS/OUTS); data holds size * count bytes
    std::span<uint8_t> data;
};

struct MmioExit {
    uint64_t address { 0 };
    AccessDirection direction { AccessDirection::Read };
    std::span<uint8_t> data; // 1..8 bytes
};

struct HltExit { };
struct ShutdownExit { }; // triple fault (or an explicit shutdown) on x86

struct SystemEventExit {
    uint32_t type { 0 }; // KVM_SYSTEM_EVENT_SHUTDOWN / _RESET / _CRASH / ...
    uint64_t data { 0 }; // first data word (flags on older kernels)
};

struct InternalErrorExit {
    static constexpr size_t max_data = 4;
    uint32_t suberror { 0 }; // KVM_INTERNAL_ERROR_*
    uint32_t data_count { 0 };
    std::array<uint64_t, max_data> data {};
};

struct FailEntryExit {
    uint64_t hardware_reason { 0 }; // VMX exit reason / SVM exit code of the failed entry
    uint32_t cpu { 0 };
};

struct InterruptedExit { }; // KVM_RUN returned EINTR (a kick signal or immediate_exit)

struct UnknownExit {
    uint32_t reason { 0 };
};

using VcpuExit = std::variant<IoExit, MmioExit, HltExit, ShutdownExit, SystemEventExit, InternalErrorExit,
    FailEntryExit, InterruptedExit, UnknownExit>;

// One line for logs and stop reports, e.g. "KVM internal error, suberror 1 (emulation failure)".
std::string describe_exit(VcpuExit const& exit);

} // namespace husk
