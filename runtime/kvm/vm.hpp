// Vm: one KVM virtual machine (KVM_CREATE_VM) and its VM-wide state: memory slots, the
// in-kernel interrupt controllers, irqfd/ioeventfd wiring.
#pragma once

#include "runtime/base/event_fd.hpp"
#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"
#include "runtime/kvm/kvm.hpp"
#include "runtime/memory/guest_memory.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace husk {

// Intel VMX needs three pages for a real-mode TSS and one for an identity-map page table, in
// guest-physical space that is not RAM; just below the 4 GiB BIOS area, where Firecracker and
// QEMU put them too.
inline constexpr uint64_t kvm_tss_address = 0xfffb'd000;
inline constexpr uint64_t kvm_identity_map_address = 0xfffb'c000;

enum class IoSpace { Pio, Mmio };
enum class IrqLevel { Low, High };

class Vm {
public:
    static Result<Vm> create(Kvm const& kvm);

    // One memory slot per region, in order; call once (slots are numbered from 0).
    Result<void> map_memory(GuestMemory const& memory);
    Result<void> set_tss_address(uint64_t address);
    // Must come before the first vCPU is created (KVM rule).
    Result<void> set_identity_map_address(uint64_t address);
    // PIC + IOAPIC + per-vCPU LAPIC in the kernel; must come before the first vCPU.
    Result<void> create_irqchip();
    // Writing `event` injects an edge on `gsi`.
    Result<void> register_irqfd(EventFd const& event, uint32_t gsi);
    // A guest write of `length` bytes (1, 2, 4 or 8) at `address` signals `event` instead of
    // exiting to user space; with `datamatch`, only a write of that value does (virtio-mmio
    // QueueNotify: one eventfd per queue index).
    Result<void> register_ioeventfd(EventFd const& event, uint64_t address, uint32_t length, IoSpace space,
        std::optional<uint64_t> datamatch = std::nullopt);
    Result<void> set_irq_line(uint32_t irq, IrqLevel level);

    // Snapshot state of the in-kernel devices. `chip_id` is KVM_IRQCHIP_PIC_MASTER, _PIC_SLAVE or
    // _IOAPIC.
    Result<kvm_irqchip> get_irqchip(uint32_t chip_id) const;
    Result<void> set_irqchip(kvm_irqchip const& chip);
    // kvmclock: the guest's clock in nanoseconds (KVM_GET_CLOCK / KVM_SET_CLOCK).
    Result<kvm_clock_data> get_clock() const;
    Result<void> set_clock(kvm_clock_data const& clock);
    // Bytes of a vCPU's XSAVE area: KVM_CAP_XSAVE2's answer on this VM, at least
    // sizeof(kvm_xsave) (more only once a process enabled a dynamic feature such as AMX).
    size_t xsave_size() const;

    int fd() const { return m_fd.get(); }
    size_t vcpu_mmap_size() const { return m_vcpu_mmap_size; }

private:
    Vm(Fd fd, size_t vcpu_mmap_size)
        : m_fd(std::move(fd))
        , m_vcpu_mmap_size(vcpu_mmap_size)
    {
    }

    Fd m_fd;
    size_t m_vcpu_mmap_size { 0 };
    uint32_t m_next_slot { 0 };
};

} // namespace husk
