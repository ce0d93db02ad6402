// VirtioMmioSlot: one virtio device plugged into the VM at a virtio-mmio slot. It owns everything
// that joins the device to KVM: the transport on the MMIO bus, the irqfd that raises the slot's
// IO-APIC pin, and one ioeventfd per queue whose kicks are picked up on the event thread's
// io_uring loop (so device backends never run on vCPU threads). Built before the vCPUs start.
#pragma once

#include "runtime/base/event_fd.hpp"
#include "runtime/base/result.hpp"
#include "runtime/devices/bus.hpp"
#include "runtime/io/event_loop.hpp"
#include "runtime/kvm/vm.hpp"
#include "virtio/core/interrupt.hpp"
#include "virtio/core/virtio_device.hpp"
#include "virtio/mmio/mmio_transport.hpp"

#include <memory>
#include <string>
#include <vector>

namespace husk {

struct VirtioMmioPlacement {
    uint64_t base { 0 };
    uint32_t irq { 0 };
};

// Slot `index` (< layout::virtio_mmio_max_slots): its window and IO-APIC pin.
VirtioMmioPlacement virtio_mmio_placement(size_t index);
// The kernel argument that announces a slot to Linux: `virtio_mmio.device=4K@<base>:<irq>`.
std::string virtio_mmio_kernel_argument(VirtioMmioPlacement placement);

class VirtioMmioSlot {
public:
    // Plugs `device` in at `placement`. `vm`, `memory`, `bus` and `loop` must outlive the slot.
    static Result<std::unique_ptr<VirtioMmioSlot>> create(std::unique_ptr<VirtioDevice> device,
        VirtioMmioPlacement placement, Vm& vm, GuestMemory& memory, Bus& mmio_bus, EventLoop& loop);
    VirtioMmioSlot(VirtioMmioSlot const&) = delete;
    VirtioMmioSlot& operator=(VirtioMmioSlot const&) = delete;
    // Cancels the kick polls first (the loop must not call into a dead transport).
    ~VirtioMmioSlot();

    VirtioMmioPlacement placement() const { return m_placement; }
    VirtioDevice& device() { return *m_device; }
    MmioTransport& transport() { return *m_transport; }
    // Serves every queue as if the guest had just kicked it, for kicks the event thread may not
    // have picked up yet (a guest that powers off right after queueing). Event thread only.
    void serve_all_queues();

private:
    struct QueueKick {
        EventFd event;
        FixedFile file {};
        bool registered { false };
        std::optional<OperationId> poll;
    };

    VirtioMmioSlot(std::unique_ptr<VirtioDevice> device, VirtioMmioPlacement placement, EventFd irq, EventLoop& loop);
    Result<void> wire(Vm& vm, GuestMemory& memory, Bus& mmio_bus);
    Result<void> watch_queue(Vm& vm, uint16_t index);
    void on_kick(uint16_t index, int result);

    VirtioMmioPlacement m_placement;
    EventLoop& m_loop;
    EventFd m_irq;
    EventFdInterruptTrigger m_trigger;
    // Declared after the trigger and before the transport: the transport refers to both.
    std::unique_ptr<VirtioDevice> m_device;
    // Shared with the MMIO bus, which the Machine destroys before its slots.
    std::shared_ptr<MmioTransport> m_transport;
    std::vector<std::unique_ptr<QueueKick>> m_kicks;
};

} // namespace husk
