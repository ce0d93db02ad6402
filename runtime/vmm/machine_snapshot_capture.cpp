// Machine::capture_snapshot and write_snapshot: reading the complete state of a paused VM from
// KVM and the devices, and writing it with the guest memory to the files a client passed.
#include "runtime/base/log.hpp"
#include "runtime/snapshot/snapshot_format.hpp"
#include "runtime/vmm/machine.hpp"

#include <ctime>

namespace husk {

namespace {
    int64_t realtime_ns()
    {
        timespec now {};
        ::clock_gettime(CLOCK_REALTIME, &now);
        return int64_t { now.tv_sec } * 1'000'000'000 + now.tv_nsec;
    }

    Result<VcpuSnapshot> capture_vcpu(Vcpu const& vcpu, std::vector<kvm_cpuid_entry2> const& cpuid,
        std::span<uint32_t const> msr_indices, size_t xsave_size)
    {
        VcpuSnapshot state;
        state.cpuid = cpuid;
        state.regs = TRY(vcpu.get_regs());
        state.sregs = TRY(vcpu.get_sregs());
        state.xsave = TRY(vcpu.get_xsave(xsave_size));
        state.xcrs = TRY(vcpu.get_xcrs());
        state.lapic = TRY(vcpu.get_lapic());
        state.msrs = TRY(vcpu.get_readable_msrs(msr_indices));
        state.mp_state = TRY(vcpu.get_mp_state());
        state.events = TRY(vcpu.get_vcpu_events());
        state.debugregs = TRY(vcpu.get_debugregs());
        // Without it the restore cannot advance the TSC; the kvmclock still is.
        state.tsc_khz = vcpu.get_tsc_khz().value_or(0);
        return state;
    }
} // namespace

Result<MachineSnapshot> Machine::capture_snapshot() const
{
    MachineSnapshot snapshot;
    snapshot.memory_bytes = m_memory.total_size();
    uint64_t offset = 0;
    for (auto const& region : m_memory.regions()) {
        snapshot.regions.push_back({ region.start.value(), region.size, offset });
        offset += region.size;
    }
    for (size_t index = 0; index < m_vcpus.size(); ++index)
        snapshot.vcpus.push_back(
            TRY_CONTEXT(capture_vcpu(m_vcpus[index], m_vcpu_cpuid[index], m_msr_indices, m_xsave_size),
                "vCPU " + std::to_string(index)));

    snapshot.vm.pic_master = TRY(m_vm.get_irqchip(KVM_IRQCHIP_PIC_MASTER));
    snapshot.vm.pic_slave = TRY(m_vm.get_irqchip(KVM_IRQCHIP_PIC_SLAVE));
    snapshot.vm.ioapic = TRY(m_vm.get_irqchip(KVM_IRQCHIP_IOAPIC));
    // The two clocks read back to back: the restore advances the guest's by the host's.
    snapshot.vm.clock = TRY(m_vm.get_clock());
    snapshot.vm.host_realtime_ns = realtime_ns();

    snapshot.serial = m_serial->save_state();
    snapshot.i8042 = m_i8042->save_state();
    snapshot.status = m_status->save_state();
    snapshot.virtio = TRY(m_virtio->save_state());
    return snapshot;
}

Result<std::string> Machine::write_snapshot(int state_fd, int memory_fd)
{
    auto unsupported = m_virtio->devices_without_snapshot_support();
    if (!unsupported.empty()) {
        std::string names;
        for (auto const& name : unsupported)
            names += (names.empty() ? "" : ", ") + name;
        return fail("cannot snapshot this VM: " + names + " has no snapshot support");
    }
    auto started = std::chrono::steady_clock::now();
    auto snapshot = TRY(capture_snapshot());
    auto state = encode_snapshot(snapshot);
    // Only a share with tens of thousands of long fid paths gets here; no restore would read it.
    if (state.size() > snapshot_format::max_file_size)
        return fail("cannot snapshot this VM: its state would take " + std::to_string(state.size())
            + " bytes, more than " + std::to_string(snapshot_format::max_body_size)
            + " (its shares hold too many fids)");
    if (::ftruncate(state_fd, 0) < 0)
        return fail_errno("cannot truncate the snapshot state file");
    TRY_CONTEXT(write_all(state_fd, state.data(), state.size()), "snapshot state file");
    TRY_CONTEXT(m_memory.save_to(memory_fd), "snapshot memory file");
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    log_info("snapshot written: " + std::to_string(state.size()) + " bytes of state, "
        + std::to_string(snapshot.memory_bytes >> 20) + " MiB of memory, in " + std::to_string(took.count()) + " ms");
    return std::to_string(state.size()) + " " + std::to_string(snapshot.memory_bytes);
}

} // namespace husk
