// Machine::restore: a VM rebuilt from a snapshot. KVM state goes back in the order its
// dependencies need (CPUID before MSRs, the LAPIC before the TSC-deadline MSR, vCPU events last),
// and the guest clocks (kvmclock and TSC) move forward by the host time since the snapshot, so a
// clone's wall clock is right without any help from the guest.
#include "runtime/base/log.hpp"
#include "runtime/base/setup_profile.hpp"
#include "runtime/boot/cpu_state.hpp"
#include "runtime/boot/layout.hpp"
#include "runtime/vmm/machine.hpp"

#include <cpuid.h>
#include <cstring>
#include <ctime>

namespace husk {

namespace {
    int64_t realtime_ns()
    {
        timespec now {};
        ::clock_gettime(CLOCK_REALTIME, &now);
        return int64_t { now.tv_sec } * 1'000'000'000 + now.tv_nsec;
    }

    // Sets what KVM accepts; an MSR it refuses (a feature this host lacks) is named in the log
    // and left at its reset value, which is what a guest without that feature expects. One call
    // per refused MSR, going on after it (a snapshot of another CPU model can have dozens).
    Result<void> set_msrs_tolerantly(Vcpu& vcpu, std::vector<kvm_msr_entry> const& msrs)
    {
        std::span<kvm_msr_entry const> rest(msrs);
        std::string refused;
        while (!rest.empty()) {
            auto set = TRY(vcpu.set_msrs_until_refused(rest));
            if (set == rest.size())
                break;
            char index[16];
            std::snprintf(index, sizeof index, "%#x", rest[set].index);
            refused += (refused.empty() ? "" : " ") + std::string(index);
            rest = rest.subspan(set + 1);
        }
        if (!refused.empty())
            log_warn("vCPU " + std::to_string(vcpu.index()) + ": KVM refused the saved MSRs " + refused);
        return {};
    }

    // AMD (SVM) hosts: the vendor CPUID leaf says "AuthenticAMD" (or Hygon's licensed clone).
    bool is_svm_host()
    {
        unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
        if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) == 0)
            return false;
        char vendor[13] {};
        std::memcpy(vendor, &ebx, 4);
        std::memcpy(vendor + 4, &edx, 4);
        std::memcpy(vendor + 8, &ecx, 4);
        return std::strcmp(vendor, "AuthenticAMD") == 0 || std::strcmp(vendor, "HygonGenuine") == 0;
    }

    // KVM on SVM reports the task register's type as busy (it sets the bit to work around SVM not
    // keeping it), and QEMU's emulated SVM (the lab) then refuses every I/O-bitmap check against a
    // busy TSS, so a restored guest's permitted port I/O (husk-init's status port) faults. SVM
    // itself never looks at the bit in long mode, so an available TSS is as good there; VMX would
    // refuse it at VM entry, hence only on SVM hosts.
    constexpr uint8_t tss_type_available = 9;
    constexpr uint8_t tss_type_busy = 11;

    // Nanoseconds at `khz` ticks per millisecond, without overflow for any real interval.
    uint64_t ticks_in(int64_t elapsed_ns, uint32_t khz)
    {
        return static_cast<uint64_t>((static_cast<unsigned __int128>(elapsed_ns) * khz) / 1'000'000);
    }
} // namespace

Result<std::unique_ptr<Machine>> Machine::restore(MachineConfig config, MachineSnapshot const& snapshot, Fd memory_file)
{
    config.vcpus = static_cast<unsigned>(snapshot.vcpus.size());
    config.memory_bytes = snapshot.memory_bytes;
    if (config.vcpus == 0 || config.vcpus > machine_max_vcpus)
        return fail("the snapshot has " + std::to_string(config.vcpus) + " vCPUs");

    // The guest's kernel, e820 map and MP table were laid out for this build's RAM layout.
    auto expected_regions = layout::ram_regions(snapshot.memory_bytes);
    std::vector<GuestRegionSpec> regions;
    std::vector<uint64_t> offsets;
    for (auto const& region : snapshot.regions) {
        regions.push_back({ GuestAddress(region.guest_address), region.size });
        offsets.push_back(region.file_offset);
    }
    bool same_layout = regions.size() == expected_regions.size();
    for (size_t i = 0; same_layout && i < regions.size(); ++i)
        same_layout = regions[i].start == expected_regions[i].start && regions[i].size == expected_regions[i].size;
    if (!same_layout)
        return fail("the snapshot's guest memory layout is not the one husk uses for "
            + std::to_string(snapshot.memory_bytes >> 20) + " MiB");

    std::optional<SetupPhase> phase;
    phase.emplace("kvm open");
    auto kvm = TRY(Kvm::open(config.pvm_policy));
    phase.emplace("vm create");
    auto vm = TRY(Vm::create(kvm));
    TRY(vm.set_tss_address(kvm_tss_address));
    TRY(vm.set_identity_map_address(kvm_identity_map_address));
    phase.emplace("guest memory map");
    auto memory = TRY_CONTEXT(GuestMemory::map_file(regions, offsets, memory_file.get()), "snapshot memory file");
    memory_file.reset(); // the mappings keep the file
    // The memory slot before the irqchip, as in Machine::create (no grace period to wait for).
    phase.emplace("memory slots");
    TRY(vm.map_memory(memory));
    phase.emplace("irqchip");
    TRY(vm.create_irqchip());
    phase.emplace("legacy devices");
    auto stop = TRY(StopController::create());

    std::unique_ptr<Machine> machine(
        new Machine(std::move(config), std::move(kvm), std::move(vm), std::move(memory), std::move(stop)));
    TRY(machine->create_devices());
    phase.emplace("virtio devices");
    TRY(machine->create_virtio_devices());
    phase.emplace("device state");
    TRY(machine->restore_devices(snapshot));
    // One reading for both clocks, so kvmclock and the TSC agree.
    int64_t elapsed_ns = std::max<int64_t>(0, realtime_ns() - snapshot.vm.host_realtime_ns);
    phase.emplace("vcpus");
    TRY(machine->restore_vcpus(snapshot, elapsed_ns));
    phase.emplace("vm state");
    TRY(machine->restore_vm_state(snapshot, elapsed_ns));
    machine->m_virtio->tell_devices_restored();
    phase.emplace("control socket");
    TRY(machine->create_control_socket());
    phase.reset();
    log_info("restored a snapshot taken " + std::to_string(elapsed_ns / 1'000'000) + " ms ago");
    return machine;
}

Result<void> Machine::restore_devices(MachineSnapshot const& snapshot)
{
    m_serial->restore_state(snapshot.serial);
    m_i8042->restore_state(snapshot.i8042);
    m_status->restore_state(snapshot.status);
    return m_virtio->restore_state(snapshot.virtio);
}

Result<void> Machine::restore_vcpus(MachineSnapshot const& snapshot, int64_t elapsed_ns)
{
    m_vcpus.reserve(snapshot.vcpus.size());
    bool svm_host = is_svm_host();
    for (unsigned index = 0; index < snapshot.vcpus.size(); ++index) {
        auto const& saved = snapshot.vcpus[index];
        std::string context = "restoring vCPU " + std::to_string(index);
        auto vcpu = TRY(Vcpu::create(m_vm, index));
        TRY_CONTEXT(vcpu.set_cpuid(saved.cpuid), context);
        m_vcpu_cpuid.push_back(saved.cpuid);
        auto sregs = saved.sregs;
        if (svm_host && sregs.tr.type == tss_type_busy)
            sregs.tr.type = tss_type_available;
        TRY_CONTEXT(vcpu.set_sregs(sregs), context);
        TRY_CONTEXT(vcpu.set_regs(saved.regs), context);
        TRY_CONTEXT(vcpu.set_xsave(saved.xsave), context);
        TRY_CONTEXT(vcpu.set_xcrs(saved.xcrs), context);
        TRY_CONTEXT(vcpu.set_debugregs(saved.debugregs), context);
        TRY_CONTEXT(vcpu.set_lapic(saved.lapic), context);
        auto msrs = saved.msrs;
        for (auto& msr : msrs) {
            // The TSC runs on by the time the snapshot sat on disk, like the kvmclock below: a
            // guest that uses the TSC as its clock source sees the right time too.
            if (msr.index == x86::msr_ia32_tsc && saved.tsc_khz != 0)
                msr.data += ticks_in(elapsed_ns, saved.tsc_khz);
        }
        TRY_CONTEXT(set_msrs_tolerantly(vcpu, msrs), context);
        TRY_CONTEXT(vcpu.set_mp_state(saved.mp_state), context);
        TRY_CONTEXT(vcpu.set_vcpu_events(saved.events), context);
        m_vcpus.push_back(std::move(vcpu));
    }
    return {};
}

Result<void> Machine::restore_vm_state(MachineSnapshot const& snapshot, int64_t elapsed_ns)
{
    auto clock = snapshot.vm.clock;
    clock.clock += static_cast<uint64_t>(elapsed_ns);
    // Only the value: KVM's own realtime correction (KVM_CLOCK_REALTIME) needs a TSC-based host
    // clock, and the advance above already did what it would.
    clock.flags = 0;
    TRY(m_vm.set_clock(clock));
    TRY(m_vm.set_irqchip(snapshot.vm.pic_master));
    TRY(m_vm.set_irqchip(snapshot.vm.pic_slave));
    TRY(m_vm.set_irqchip(snapshot.vm.ioapic));
    return {};
}

} // namespace husk
