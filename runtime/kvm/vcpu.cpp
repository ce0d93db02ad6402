// Vcpu: vCPU ioctls, the kvm_run mapping and exit decoding.
#include "runtime/kvm/vcpu.hpp"
#include "runtime/kvm/kvm_abi.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <utility>

namespace husk {

namespace {
    template<typename T>
    Result<T> get_state(int fd, unsigned long request, char const* name)
    {
        T state {};
        if (::ioctl(fd, request, &state) < 0)
            return fail_errno(name);
        return state;
    }

    template<typename T>
    Result<void> set_state(int fd, unsigned long request, T const& state, char const* name)
    {
        if (::ioctl(fd, request, &state) < 0)
            return fail_errno(name);
        return {};
    }

    // Storage for a kvm_abi header followed by its entries, 8-byte aligned.
    template<typename Header, typename Entry>
    std::vector<uint64_t> flexible_storage(size_t count)
    {
        size_t bytes = sizeof(Header) + count * sizeof(Entry);
        return std::vector<uint64_t>((bytes + sizeof(uint64_t) - 1) / sizeof(uint64_t), 0);
    }

    // More entries than KVM itself accepts in one call (KVM_MAX_MSR_ENTRIES, KVM_MAX_CPUID_ENTRIES):
    // a bigger request can only be a caller bug.
    constexpr size_t max_entries_per_call = 256;
} // namespace

Result<Vcpu> Vcpu::create(Vm const& vm, unsigned index)
{
    int fd = ::ioctl(vm.fd(), KVM_CREATE_VCPU, static_cast<unsigned long>(index));
    if (fd < 0)
        return fail_errno("KVM_CREATE_VCPU " + std::to_string(index));
    Fd owned(fd);
    void* mapping = ::mmap(nullptr, vm.vcpu_mmap_size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mapping == MAP_FAILED)
        return fail_errno("mmap kvm_run of vCPU " + std::to_string(index));
    return Vcpu(std::move(owned), index, static_cast<kvm_run*>(mapping), vm.vcpu_mmap_size());
}

Vcpu::Vcpu(Vcpu&& other) noexcept
    : m_fd(std::move(other.m_fd))
    , m_index(other.m_index)
    , m_run(std::exchange(other.m_run, nullptr))
    , m_run_size(std::exchange(other.m_run_size, 0))
{
}

Vcpu& Vcpu::operator=(Vcpu&& other) noexcept
{
    if (this != &other) {
        unmap();
        m_fd = std::move(other.m_fd);
        m_index = other.m_index;
        m_run = std::exchange(other.m_run, nullptr);
        m_run_size = std::exchange(other.m_run_size, 0);
    }
    return *this;
}

Vcpu::~Vcpu() { unmap(); }

void Vcpu::unmap()
{
    if (m_run != nullptr)
        ::munmap(m_run, m_run_size);
    m_run = nullptr;
    m_run_size = 0;
}

Result<kvm_regs> Vcpu::get_regs() const { return get_state<kvm_regs>(m_fd.get(), KVM_GET_REGS, "KVM_GET_REGS"); }
Result<void> Vcpu::set_regs(kvm_regs const& regs) { return set_state(m_fd.get(), KVM_SET_REGS, regs, "KVM_SET_REGS"); }
Result<kvm_sregs> Vcpu::get_sregs() const { return get_state<kvm_sregs>(m_fd.get(), KVM_GET_SREGS, "KVM_GET_SREGS"); }
Result<void> Vcpu::set_sregs(kvm_sregs const& sregs)
{
    return set_state(m_fd.get(), KVM_SET_SREGS, sregs, "KVM_SET_SREGS");
}
Result<kvm_fpu> Vcpu::get_fpu() const { return get_state<kvm_fpu>(m_fd.get(), KVM_GET_FPU, "KVM_GET_FPU"); }
Result<void> Vcpu::set_fpu(kvm_fpu const& fpu) { return set_state(m_fd.get(), KVM_SET_FPU, fpu, "KVM_SET_FPU"); }
Result<kvm_lapic_state> Vcpu::get_lapic() const
{
    return get_state<kvm_lapic_state>(m_fd.get(), KVM_GET_LAPIC, "KVM_GET_LAPIC");
}
Result<void> Vcpu::set_lapic(kvm_lapic_state const& lapic)
{
    return set_state(m_fd.get(), KVM_SET_LAPIC, lapic, "KVM_SET_LAPIC");
}
Result<kvm_mp_state> Vcpu::get_mp_state() const
{
    return get_state<kvm_mp_state>(m_fd.get(), KVM_GET_MP_STATE, "KVM_GET_MP_STATE");
}
Result<void> Vcpu::set_mp_state(kvm_mp_state const& state)
{
    return set_state(m_fd.get(), KVM_SET_MP_STATE, state, "KVM_SET_MP_STATE");
}

Result<std::vector<uint8_t>> Vcpu::get_xsave(size_t size) const
{
    if (size < sizeof(kvm_abi::XsaveArea) || size % sizeof(uint32_t) != 0)
        return fail("XSAVE area of " + std::to_string(size) + " bytes is impossible");
    std::vector<uint8_t> area(size);
    // KVM_GET_XSAVE2 writes the whole area when it is larger than struct kvm_xsave.
    unsigned long request = size > sizeof(kvm_abi::XsaveArea) ? kvm_abi::get_xsave2 : kvm_abi::get_xsave;
    if (::ioctl(m_fd.get(), request, area.data()) < 0)
        return fail_errno(size > sizeof(kvm_abi::XsaveArea) ? "KVM_GET_XSAVE2" : "KVM_GET_XSAVE");
    return area;
}

Result<void> Vcpu::set_xsave(std::span<uint8_t const> area)
{
    if (area.size() < sizeof(kvm_abi::XsaveArea))
        return fail("XSAVE area of " + std::to_string(area.size()) + " bytes is too small");
    if (::ioctl(m_fd.get(), kvm_abi::set_xsave, area.data()) < 0)
        return fail_errno("KVM_SET_XSAVE");
    return {};
}

Result<kvm_xcrs> Vcpu::get_xcrs() const { return get_state<kvm_xcrs>(m_fd.get(), KVM_GET_XCRS, "KVM_GET_XCRS"); }
Result<void> Vcpu::set_xcrs(kvm_xcrs const& xcrs) { return set_state(m_fd.get(), KVM_SET_XCRS, xcrs, "KVM_SET_XCRS"); }
Result<kvm_vcpu_events> Vcpu::get_vcpu_events() const
{
    return get_state<kvm_vcpu_events>(m_fd.get(), KVM_GET_VCPU_EVENTS, "KVM_GET_VCPU_EVENTS");
}
Result<void> Vcpu::set_vcpu_events(kvm_vcpu_events const& events)
{
    return set_state(m_fd.get(), KVM_SET_VCPU_EVENTS, events, "KVM_SET_VCPU_EVENTS");
}
Result<kvm_debugregs> Vcpu::get_debugregs() const
{
    return get_state<kvm_debugregs>(m_fd.get(), KVM_GET_DEBUGREGS, "KVM_GET_DEBUGREGS");
}
Result<void> Vcpu::set_debugregs(kvm_debugregs const& debugregs)
{
    return set_state(m_fd.get(), KVM_SET_DEBUGREGS, debugregs, "KVM_SET_DEBUGREGS");
}

Result<uint32_t> Vcpu::get_tsc_khz() const
{
    int khz = ::ioctl(m_fd.get(), KVM_GET_TSC_KHZ, 0);
    if (khz < 0)
        return fail_errno("KVM_GET_TSC_KHZ");
    return static_cast<uint32_t>(khz);
}

Result<std::vector<kvm_msr_entry>> Vcpu::get_readable_msrs(std::span<uint32_t const> indices) const
{
    std::vector<kvm_msr_entry> readable;
    size_t next = 0;
    while (next < indices.size()) {
        size_t count = std::min(indices.size() - next, max_entries_per_call);
        auto storage = flexible_storage<kvm_abi::MsrsHeader, kvm_msr_entry>(count);
        auto* header = reinterpret_cast<kvm_abi::MsrsHeader*>(storage.data());
        header->entry_count = static_cast<uint32_t>(count);
        auto* entries = reinterpret_cast<kvm_msr_entry*>(header + 1);
        for (size_t i = 0; i < count; ++i)
            entries[i] = kvm_msr_entry { indices[next + i], 0, 0 };
        int read = ::ioctl(m_fd.get(), kvm_abi::get_msrs, header);
        if (read < 0)
            return fail_errno("KVM_GET_MSRS");
        // KVM stops at the first MSR it cannot read: keep those before it, skip it, go on.
        readable.insert(readable.end(), entries, entries + read);
        next += static_cast<size_t>(read) + (static_cast<size_t>(read) < count ? 1 : 0);
    }
    return readable;
}

Result<size_t> Vcpu::set_msrs_until_refused(std::span<kvm_msr_entry const> entries)
{
    if (entries.size() > max_entries_per_call)
        return fail("KVM_SET_MSRS: " + std::to_string(entries.size()) + " entries is more than KVM accepts");
    auto storage = flexible_storage<kvm_abi::MsrsHeader, kvm_msr_entry>(entries.size());
    auto* header = reinterpret_cast<kvm_abi::MsrsHeader*>(storage.data());
    header->entry_count = static_cast<uint32_t>(entries.size());
    auto* payload = reinterpret_cast<uint8_t*>(header + 1);
    std::memcpy(payload, entries.data(), entries.size_bytes());
    int written = ::ioctl(m_fd.get(), kvm_abi::set_msrs, header);
    if (written < 0)
        return fail_errno("KVM_SET_MSRS");
    // KVM returns how many MSRs it set and silently stops at the first one it refuses.
    return std::min(static_cast<size_t>(written), entries.size());
}

Result<void> Vcpu::set_msrs(std::span<kvm_msr_entry const> entries)
{
    auto written = TRY(set_msrs_until_refused(entries));
    if (written != entries.size()) {
        char index[16];
        std::snprintf(index, sizeof index, "%#x", entries[static_cast<size_t>(written)].index);
        return fail("KVM_SET_MSRS: KVM refused MSR " + std::string(index) + " (set " + std::to_string(written) + " of "
            + std::to_string(entries.size()) + ")");
    }
    return {};
}

Result<void> Vcpu::get_msrs(std::span<kvm_msr_entry> entries) const
{
    if (entries.size() > max_entries_per_call)
        return fail("KVM_GET_MSRS: " + std::to_string(entries.size()) + " entries is more than KVM accepts");
    auto storage = flexible_storage<kvm_abi::MsrsHeader, kvm_msr_entry>(entries.size());
    auto* header = reinterpret_cast<kvm_abi::MsrsHeader*>(storage.data());
    header->entry_count = static_cast<uint32_t>(entries.size());
    auto* payload = reinterpret_cast<uint8_t*>(header + 1);
    std::memcpy(payload, entries.data(), entries.size_bytes());
    int read = ::ioctl(m_fd.get(), kvm_abi::get_msrs, header);
    if (read < 0)
        return fail_errno("KVM_GET_MSRS");
    if (static_cast<size_t>(read) != entries.size()) {
        char index[16];
        std::snprintf(index, sizeof index, "%#x", entries[static_cast<size_t>(read)].index);
        return fail("KVM_GET_MSRS: KVM cannot read MSR " + std::string(index));
    }
    std::memcpy(entries.data(), payload, entries.size_bytes());
    return {};
}

Result<void> Vcpu::set_cpuid(std::span<kvm_cpuid_entry2 const> entries)
{
    if (entries.size() > max_entries_per_call)
        return fail("KVM_SET_CPUID2: " + std::to_string(entries.size()) + " entries is more than KVM accepts");
    auto storage = flexible_storage<kvm_abi::Cpuid2Header, kvm_cpuid_entry2>(entries.size());
    auto* header = reinterpret_cast<kvm_abi::Cpuid2Header*>(storage.data());
    header->entry_count = static_cast<uint32_t>(entries.size());
    std::memcpy(header + 1, entries.data(), entries.size_bytes());
    if (::ioctl(m_fd.get(), kvm_abi::set_cpuid2, header) < 0)
        return fail_errno("KVM_SET_CPUID2");
    return {};
}

void Vcpu::set_immediate_exit(bool enabled)
{
    // Written by a stopping thread while the vCPU thread may be entering KVM_RUN, which reads it
    // with READ_ONCE; the atomic store keeps the compiler from tearing or delaying it.
    std::atomic_ref<uint8_t>(m_run->immediate_exit).store(enabled ? 1 : 0);
}

Result<VcpuExit> Vcpu::run()
{
    if (::ioctl(m_fd.get(), KVM_RUN, 0) < 0) {
        // EINTR: a kick signal or immediate_exit; EAGAIN: KVM asks to retry (e.g. a pending
        // request was processed). Neither is a failure of the VM.
        if (errno == EINTR || errno == EAGAIN)
            return VcpuExit { InterruptedExit {} };
        return fail_errno("KVM_RUN on vCPU " + std::to_string(m_index));
    }
    return decode_exit();
}

Result<VcpuExit> Vcpu::decode_exit()
{
    kvm_run& run = *m_run;
    auto* page = reinterpret_cast<uint8_t*>(m_run);
    switch (run.exit_reason) {
    case KVM_EXIT_IO: {
        uint64_t size = run.io.size;
        uint64_t bytes = size * run.io.count;
        // The kernel fills these; checking keeps a kernel bug from becoming a wild access here.
        if ((size != 1 && size != 2 && size != 4) || run.io.count == 0 || run.io.data_offset > m_run_size
            || bytes > m_run_size - run.io.data_offset)
            return fail("KVM_EXIT_IO with an impossible size " + std::to_string(size) + " x "
                + std::to_string(run.io.count) + " at offset " + std::to_string(run.io.data_offset));
        IoExit exit;
        exit.port = run.io.port;
        exit.direction = run.io.direction == KVM_EXIT_IO_OUT ? AccessDirection::Write : AccessDirection::Read;
        exit.size = static_cast<uint8_t>(size);
        exit.count = run.io.count;
        exit.data = std::span(page + run.io.data_offset, bytes);
        return VcpuExit { exit };
    }
    case KVM_EXIT_MMIO: {
        if (run.mmio.len == 0 || run.mmio.len > sizeof run.mmio.data)
            return fail("KVM_EXIT_MMIO with an impossible length " + std::to_string(run.mmio.len));
        MmioExit exit;
        exit.address = run.mmio.phys_addr;
        exit.direction = run.mmio.is_write ? AccessDirection::Write : AccessDirection::Read;
        exit.data = std::span(run.mmio.data, run.mmio.len);
        return VcpuExit { exit };
    }
    case KVM_EXIT_HLT:
        return VcpuExit { HltExit {} };
    case KVM_EXIT_SHUTDOWN:
        return VcpuExit { ShutdownExit {} };
    case KVM_EXIT_INTR:
        return VcpuExit { InterruptedExit {} };
    case KVM_EXIT_SYSTEM_EVENT: {
        SystemEventExit exit;
        exit.type = run.system_event.type;
        exit.data = run.system_event.ndata > 0 ? run.system_event.data[0] : 0;
        return VcpuExit { exit };
    }
    case KVM_EXIT_INTERNAL_ERROR: {
        InternalErrorExit exit;
        exit.suberror = run.internal.suberror;
        exit.data_count = run.internal.ndata < InternalErrorExit::max_data
            ? run.internal.ndata
            : static_cast<uint32_t>(InternalErrorExit::max_data);
        for (uint32_t i = 0; i < exit.data_count; ++i)
            exit.data[i] = run.internal.data[i];
        return VcpuExit { exit };
    }
    case KVM_EXIT_FAIL_ENTRY: {
        FailEntryExit exit;
        exit.hardware_reason = run.fail_entry.hardware_entry_failure_reason;
        exit.cpu = run.fail_entry.cpu;
        return VcpuExit { exit };
    }
    default:
        return VcpuExit { UnknownExit { run.exit_reason } };
    }
}

} // namespace husk
