// Guest time in nanoseconds from KVM's paravirtual clock (kvmclock, MSR_KVM_SYSTEM_TIME_NEW):
// the TSC frequency is unknown to the guest and spin counts mean nothing across hosts (a spin
// costs nanoseconds on hardware KVM and microseconds under nested or PVM virtualisation).
#pragma once

#include <cstdint>

namespace guest {

// Enables kvmclock; false when KVM does not offer it (then now_ns() counts calls instead).
bool start_clock();
uint64_t now_ns();

inline constexpr uint64_t milliseconds = 1'000'000;

} // namespace guest
