// Kvm: the open /dev/kvm system handle. Opening checks the API version, the host flavour and
// every capability husk relies on, so a missing feature fails here with one clear sentence
// instead of later with a bare errno from some ioctl.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"
#include "runtime/kvm/kvm_flavour.hpp"

#include <cstddef>
#include <linux/kvm.h>
#include <cstdint>
#include <vector>

namespace husk {

// The error for a failed open of /dev/kvm with `error` (an errno): says what to do about it.
Error kvm_open_error(int error);

class Kvm {
public:
    static constexpr int expected_api_version = 12; // KVM_API_VERSION, stable since 2.6.22

    // Opens /dev/kvm (O_RDWR|O_CLOEXEC). Refuses PVM hosts per `policy` (see kvm_flavour.hpp).
    static Result<Kvm> open(PvmPolicy policy = PvmPolicy::FromEnvironment);

    KvmFlavour flavour() const { return m_flavour; }
    // A second handle on the same /dev/kvm (dup): for another thread to ask system questions on
    // while this handle moves or closes (SupportedCpuidAhead).
    Result<Kvm> another_handle() const;
    // CPUID leaves this host's KVM can present to a guest (KVM_GET_SUPPORTED_CPUID).
    Result<std::vector<kvm_cpuid_entry2>> supported_cpuid() const;
    // The MSRs KVM can save and restore for a vCPU (KVM_GET_MSR_INDEX_LIST); some may still be
    // unreadable on a given vCPU (Vcpu::get_readable_msrs filters).
    Result<std::vector<uint32_t>> msr_index_list() const;
    // Size of the per-vCPU kvm_run mapping (KVM_GET_VCPU_MMAP_SIZE).
    Result<size_t> vcpu_mmap_size() const;
    // For Vm::create only: the system fd on which KVM_CREATE_VM is issued.
    int fd() const { return m_fd.get(); }

private:
    Kvm(Fd fd, KvmFlavour flavour)
        : m_fd(std::move(fd))
        , m_flavour(flavour)
    {
    }
    Result<void> check_capabilities() const;

    Fd m_fd;
    KvmFlavour m_flavour;
};

} // namespace husk
