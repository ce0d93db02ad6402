// vCPU kick signal: installation and delivery.
#include "runtime/kvm/vcpu_kick.hpp"

#include <csignal>
#include <mutex>

namespace husk {

namespace {
    void ignore_kick(int) { }
} // namespace

int vcpu_kick_signal() { return SIGRTMIN; }

Result<void> install_vcpu_kick_handler()
{
    static std::mutex mutex;
    static bool installed = false;
    std::lock_guard lock(mutex);
    if (installed)
        return {};
    struct sigaction action { };
    action.sa_handler = ignore_kick;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0; // no SA_RESTART: KVM_RUN must come back with EINTR
    if (::sigaction(vcpu_kick_signal(), &action, nullptr) < 0)
        return fail_errno("sigaction for the vCPU kick signal");
    installed = true;
    return {};
}

Result<void> kick_vcpu(Vcpu& vcpu, pthread_t thread)
{
    vcpu.set_immediate_exit(true);
    int error = ::pthread_kill(thread, vcpu_kick_signal());
    if (error != 0)
        return fail_errno("pthread_kill vCPU " + std::to_string(vcpu.index()), error);
    return {};
}

} // namespace husk
