// Vm: VM-level KVM ioctls.
#include "runtime/kvm/vm.hpp"
#include "runtime/kvm/kvm_abi.hpp"

#include <sys/ioctl.h>

namespace husk {

namespace {
    Result<void> vm_ioctl(int fd, unsigned long request, void const* argument, char const* name)
    {
        if (::ioctl(fd, request, argument) < 0)
            return fail_errno(name);
        return {};
    }
} // namespace

Result<Vm> Vm::create(Kvm const& kvm)
{
    size_t mmap_size = TRY(kvm.vcpu_mmap_size());
    int fd = ::ioctl(kvm.fd(), KVM_CREATE_VM, 0);
    if (fd < 0)
        return fail_errno("KVM_CREATE_VM");
    return Vm(Fd(fd), mmap_size);
}

Result<void> Vm::map_memory(GuestMemory const& memory)
{
    for (auto const& region : memory.regions()) {
        kvm_userspace_memory_region slot {};
        slot.slot = m_next_slot;
        slot.guest_phys_addr = region.start.value();
        slot.memory_size = region.size;
        slot.userspace_addr = region.host_address;
        if (::ioctl(m_fd.get(), KVM_SET_USER_MEMORY_REGION, &slot) < 0)
            return fail_errno("KVM_SET_USER_MEMORY_REGION slot " + std::to_string(m_next_slot));
        ++m_next_slot;
    }
    return {};
}

Result<void> Vm::set_tss_address(uint64_t address)
{
    // KVM_SET_TSS_ADDR takes the address by value, not by pointer.
    if (::ioctl(m_fd.get(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(address)) < 0)
        return fail_errno("KVM_SET_TSS_ADDR");
    return {};
}

Result<void> Vm::set_identity_map_address(uint64_t address)
{
    return vm_ioctl(m_fd.get(), KVM_SET_IDENTITY_MAP_ADDR, &address, "KVM_SET_IDENTITY_MAP_ADDR");
}

Result<void> Vm::create_irqchip() { return vm_ioctl(m_fd.get(), KVM_CREATE_IRQCHIP, nullptr, "KVM_CREATE_IRQCHIP"); }

Result<void> Vm::register_irqfd(EventFd const& event, uint32_t gsi)
{
    kvm_irqfd irqfd {};
    irqfd.fd = static_cast<uint32_t>(event.fd());
    irqfd.gsi = gsi;
    return vm_ioctl(m_fd.get(), KVM_IRQFD, &irqfd, "KVM_IRQFD");
}

Result<void> Vm::register_ioeventfd(
    EventFd const& event, uint64_t address, uint32_t length, IoSpace space, std::optional<uint64_t> datamatch)
{
    if (length != 1 && length != 2 && length != 4 && length != 8)
        return fail("ioeventfd length must be 1, 2, 4 or 8 bytes, got " + std::to_string(length));
    kvm_ioeventfd ioeventfd {};
    ioeventfd.addr = address;
    ioeventfd.len = length;
    ioeventfd.fd = event.fd();
    ioeventfd.flags = space == IoSpace::Pio ? KVM_IOEVENTFD_FLAG_PIO : 0;
    if (datamatch) {
        ioeventfd.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
        ioeventfd.datamatch = *datamatch;
    }
    return vm_ioctl(m_fd.get(), KVM_IOEVENTFD, &ioeventfd, "KVM_IOEVENTFD");
}

Result<void> Vm::set_irq_line(uint32_t irq, IrqLevel level)
{
    kvm_irq_level line {};
    line.irq = irq;
    line.level = level == IrqLevel::High ? 1 : 0;
    return vm_ioctl(m_fd.get(), KVM_IRQ_LINE, &line, "KVM_IRQ_LINE");
}

size_t Vm::xsave_size() const
{
    int size = ::ioctl(m_fd.get(), KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
    return size > static_cast<int>(sizeof(kvm_abi::XsaveArea)) ? static_cast<size_t>(size) : sizeof(kvm_abi::XsaveArea);
}

Result<kvm_irqchip> Vm::get_irqchip(uint32_t chip_id) const
{
    kvm_irqchip chip {};
    chip.chip_id = chip_id;
    if (::ioctl(m_fd.get(), KVM_GET_IRQCHIP, &chip) < 0)
        return fail_errno("KVM_GET_IRQCHIP " + std::to_string(chip_id));
    return chip;
}

Result<void> Vm::set_irqchip(kvm_irqchip const& chip)
{
    if (chip.chip_id > KVM_IRQCHIP_IOAPIC)
        return fail("KVM_SET_IRQCHIP: unknown chip " + std::to_string(chip.chip_id));
    return vm_ioctl(m_fd.get(), KVM_SET_IRQCHIP, &chip, "KVM_SET_IRQCHIP");
}

Result<kvm_clock_data> Vm::get_clock() const
{
    kvm_clock_data clock {};
    if (::ioctl(m_fd.get(), KVM_GET_CLOCK, &clock) < 0)
        return fail_errno("KVM_GET_CLOCK");
    return clock;
}

Result<void> Vm::set_clock(kvm_clock_data const& clock)
{
    return vm_ioctl(m_fd.get(), KVM_SET_CLOCK, &clock, "KVM_SET_CLOCK");
}

} // namespace husk
