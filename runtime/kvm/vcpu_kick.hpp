// Kicking a vCPU thread out of KVM_RUN: set immediate_exit (covers a thread about to enter
// KVM_RUN) and send a real-time signal (covers one already inside). The signal's handler does
// nothing and is installed without SA_RESTART, so KVM_RUN returns EINTR.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/kvm/vcpu.hpp"

#include <pthread.h>

namespace husk {

int vcpu_kick_signal();
// Process-wide and idempotent; call before starting vCPU threads.
Result<void> install_vcpu_kick_handler();
// `thread` must be the thread running `vcpu` (or about to), not yet joined.
Result<void> kick_vcpu(Vcpu& vcpu, pthread_t thread);

} // namespace husk
