// Halt detection over vCPU activity samples.
#include "runtime/vmm/halt_detector.hpp"

#include <linux/kvm.h>

namespace husk {

bool all_vcpus_stuck(std::span<std::optional<VcpuActivity> const> sample)
{
    bool any_halted = false;
    for (auto const& activity : sample) {
        if (!activity)
            return false;
        switch (activity->mp_state) {
        case KVM_MP_STATE_HALTED:
            if (activity->interrupts_enabled)
                return false; // a timer or device interrupt will wake it
            any_halted = true;
            break;
        case KVM_MP_STATE_UNINITIALIZED:
        case KVM_MP_STATE_INIT_RECEIVED:
            break; // an AP that only another (running) CPU could start
        default:
            return false;
        }
    }
    return any_halted;
}

bool HaltDetector::observe(std::span<std::optional<VcpuActivity> const> sample)
{
    m_streak = all_vcpus_stuck(sample) ? m_streak + 1 : 0;
    return m_streak >= required_samples;
}

} // namespace husk
