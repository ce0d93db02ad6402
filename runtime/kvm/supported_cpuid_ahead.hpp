// SupportedCpuidAhead: KVM_GET_SUPPORTED_CPUID asked on a helper thread as soon as /dev/kvm is
// open, so its answer is ready when the vCPUs need it, after the VM's memory, devices and kernel
// are set up on this thread. On a host that is itself a VM the ioctl takes 0.43 ms of a setup
// of 2.5 ms (KVM runs CPUID for each leaf, and each CPUID exits to the hypervisor); on an idle
// second core it costs the setup only the thread's creation.
//
// Whoever comes first asks KVM: when the helper has not run by the time the answer is needed (a
// loaded machine, where this was tried before and the helper was not scheduled in time), the
// caller asks KVM itself and the helper, once it runs, finds nothing left to do. So a busy
// machine loses no more than the thread's creation either.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/kvm/kvm.hpp"

#include <atomic>
#include <condition_variable>
#include <linux/kvm.h>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <vector>

namespace husk {

class SupportedCpuidAhead {
public:
    // Starts the helper on `kvm` (a handle of its own: Kvm::another_handle). A thread that
    // cannot be created is no error: supported_cpuid() then asks KVM on the caller's thread.
    explicit SupportedCpuidAhead(Kvm kvm);
    SupportedCpuidAhead(SupportedCpuidAhead const&) = delete;
    SupportedCpuidAhead& operator=(SupportedCpuidAhead const&) = delete;
    // Joins the helper: no thread outlives the object (seccomp filters and the jail come later).
    ~SupportedCpuidAhead();

    // The answer of KVM_GET_SUPPORTED_CPUID (Kvm::supported_cpuid); waits for the helper if it
    // is asking right now.
    Result<std::vector<kvm_cpuid_entry2>> supported_cpuid();

    // Whether the helper thread asked KVM (for tests and the setup profile's reader).
    bool answered_by_helper() const { return m_answered_by_helper.load(); }

private:
    static void* thread_entry(void* self);
    void ask();

    Kvm m_kvm;
    std::atomic<bool> m_claimed { false };
    std::atomic<bool> m_answered_by_helper { false };
    std::mutex m_lock;
    std::condition_variable m_answered;
    std::optional<Result<std::vector<kvm_cpuid_entry2>>> m_answer; // under m_lock
    pthread_t m_thread {};
    bool m_thread_started { false };
};

} // namespace husk
