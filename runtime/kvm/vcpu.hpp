// Vcpu: one KVM vCPU fd and its mmapped kvm_run page. All vCPU-state ioctls (registers, MSRs,
// CPUID, LAPIC, MP state) and KVM_RUN live here. A Vcpu is driven by one thread at a time;
// only set_immediate_exit() may be called from another thread while run() is in progress.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"
#include "runtime/kvm/vcpu_exit.hpp"
#include "runtime/kvm/vm.hpp"

#include <linux/kvm.h>
#include <span>
#include <string>
#include <vector>

namespace husk {

class Vcpu {
public:
    // `index` is the KVM vCPU id, which is also the initial APIC id; index 0 is the BSP.
    static Result<Vcpu> create(Vm const& vm, unsigned index);
    Vcpu(Vcpu&& other) noexcept;
    Vcpu& operator=(Vcpu&& other) noexcept;
    Vcpu(Vcpu const&) = delete;
    Vcpu& operator=(Vcpu const&) = delete;
    ~Vcpu();

    unsigned index() const { return m_index; }

    Result<kvm_regs> get_regs() const;
    Result<void> set_regs(kvm_regs const& regs);
    Result<kvm_sregs> get_sregs() const;
    Result<void> set_sregs(kvm_sregs const& sregs);
    Result<kvm_fpu> get_fpu() const;
    Result<void> set_fpu(kvm_fpu const& fpu);
    // Fails unless KVM accepts every entry (it stops at the first MSR it rejects).
    Result<void> set_msrs(std::span<kvm_msr_entry const> entries);
    // Sets `entries` in order until KVM refuses one (a feature this host lacks); returns how many
    // it set, so entries[result] is the refused one when result < entries.size().
    Result<size_t> set_msrs_until_refused(std::span<kvm_msr_entry const> entries);
    // Fills the data of each entry, whose index the caller sets.
    Result<void> get_msrs(std::span<kvm_msr_entry> entries) const;
    Result<void> set_cpuid(std::span<kvm_cpuid_entry2 const> entries);
    Result<kvm_lapic_state> get_lapic() const;
    Result<void> set_lapic(kvm_lapic_state const& lapic);
    Result<kvm_mp_state> get_mp_state() const;
    Result<void> set_mp_state(kvm_mp_state const& state);

    // Snapshot state (runtime/vmm/machine_snapshot_capture.cpp). The XSAVE area is `size` bytes:
    // Kvm::xsave_size(), 4096 unless the host has larger state components (AMX).
    Result<std::vector<uint8_t>> get_xsave(size_t size) const;
    Result<void> set_xsave(std::span<uint8_t const> area);
    Result<kvm_xcrs> get_xcrs() const;
    Result<void> set_xcrs(kvm_xcrs const& xcrs);
    Result<kvm_vcpu_events> get_vcpu_events() const;
    Result<void> set_vcpu_events(kvm_vcpu_events const& events);
    Result<kvm_debugregs> get_debugregs() const;
    Result<void> set_debugregs(kvm_debugregs const& debugregs);
    // The guest TSC rate in kHz (KVM_GET_TSC_KHZ).
    Result<uint32_t> get_tsc_khz() const;
    // Reads what it can of `indices`: an MSR KVM refuses is left out, so the result is what can
    // be written back with set_msrs().
    Result<std::vector<kvm_msr_entry>> get_readable_msrs(std::span<uint32_t const> indices) const;

    // Enters the guest until the next exit. EINTR (a kick) is reported as InterruptedExit, not
    // as an error.
    Result<VcpuExit> run();
    // When set, KVM_RUN returns EINTR at once instead of entering the guest. Safe from any thread:
    // combined with a signal, it closes the race of a kick landing just before KVM_RUN.
    void set_immediate_exit(bool enabled);

    // GPRs, RIP, RFLAGS, CR0/2/3/4, EFER, segments and descriptor tables, for --debug reports.
    std::string register_dump() const;

private:
    Vcpu(Fd fd, unsigned index, kvm_run* run, size_t run_size)
        : m_fd(std::move(fd))
        , m_index(index)
        , m_run(run)
        , m_run_size(run_size)
    {
    }
    void unmap();
    Result<VcpuExit> decode_exit();

    Fd m_fd;
    unsigned m_index { 0 };
    kvm_run* m_run { nullptr };
    size_t m_run_size { 0 };
};

} // namespace husk
