// The husk status device: the guest ABI between husk-init (PID 1) and husk-vmm for boot and job
// status that must reach the host even without virtio. husk-init gets access with ioperm(2) and
// writes 32-bit values with `outl` (the boot marker with `outb`). Header-only, no dependencies,
// shared by guest-init/ and runtime/devices/.
#pragma once

#include <cstdint>

namespace husk::status_port {

// I/O port range owned by the device: [base, base + length).
inline constexpr uint16_t base = 0x0f10;
inline constexpr uint16_t length = 0x20;

// Register offsets from `base`. All writes; reads return 0.
inline constexpr uint16_t boot_marker = 0x00;      // outb boot_marker_value: husk-init started
inline constexpr uint16_t job_exit_code = 0x04;    // outl 0..255: the job exited with this code
inline constexpr uint16_t job_signal = 0x08;       // outl 1..64: the job was killed by this signal
inline constexpr uint16_t job_spawn_error = 0x0c;  // outl SpawnError: the job could not start
inline constexpr uint16_t shutdown_intent = 0x10;  // outl shutdown_intent_value: a clean reset follows
// outl agent_listening_value: the job agent listens on its vsock port, so host connects made from
// now on reach it (husk-vmm holds them on a cold boot until then instead of having them refused).
inline constexpr uint16_t agent_listening = 0x14;

inline constexpr uint8_t boot_marker_value = 123; // Firecracker's boot-timer magic, same meaning
inline constexpr uint32_t shutdown_intent_value = 0x48555348; // "HUSH"
inline constexpr uint32_t agent_listening_value = 0x4c53544e; // "LSTN"

// Why a job could not start; mapped by the host to docker-style codes (127 / 126 / 125).
enum class SpawnError : uint32_t {
    NotFound = 1,         // 127
    PermissionDenied = 2, // 126
    NotExecutable = 3,    // 126
    BadWorkingDirectory = 4, // 125
    Other = 5,            // 125
};
inline constexpr uint32_t spawn_error_max = 5;

} // namespace husk::status_port
