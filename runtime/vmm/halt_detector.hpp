// Detecting a guest that can never run again. With the in-kernel irqchip a HLT never exits to
// user space, so the VMM samples every vCPU periodically instead: when all are halted with
// interrupts disabled (or still waiting for their startup IPI) on two samples in a row, only an
// NMI could wake them and nothing will send one: the guest is dead (Linux `halt`, a stopped
// kernel, an early crash loop ending in cli;hlt).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace husk {

struct VcpuActivity {
    uint32_t mp_state { 0 }; // KVM_MP_STATE_*
    bool interrupts_enabled { false }; // RFLAGS.IF
};

// One sample: every vCPU answered and none can run. An AP still waiting for INIT/SIPI counts as
// unable to run; at least one vCPU must be HALTED (a VM of only waiting APs is not a sample we
// ever take, but it is not "halted" either). A missing answer counts as running.
bool all_vcpus_stuck(std::span<std::optional<VcpuActivity> const> sample);

class HaltDetector {
public:
    static constexpr unsigned required_samples = 2;
    // Returns true once `required_samples` consecutive samples were all stuck.
    bool observe(std::span<std::optional<VcpuActivity> const> sample);

private:
    unsigned m_streak { 0 };
};

} // namespace husk
