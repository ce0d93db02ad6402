// VirtioMmioSlot: transport on the bus, irqfd, and queue kicks through ioeventfd + io_uring polls.
#include "runtime/vmm/virtio_mmio_slot.hpp"

#include "runtime/base/log.hpp"
#include "runtime/boot/layout.hpp"
#include "virtio/mmio/mmio_registers.hpp"

#include <cstdio>
#include <poll.h>

namespace husk {

VirtioMmioPlacement virtio_mmio_placement(size_t index)
{
    return { layout::virtio_mmio_base.value() + index * layout::virtio_mmio_slot_size,
        layout::virtio_mmio_irqs[index] };
}

std::string virtio_mmio_kernel_argument(VirtioMmioPlacement placement)
{
    static_assert(layout::virtio_mmio_slot_size == 0x1000, "the argument below says 4K");
    char text[64];
    std::snprintf(text, sizeof text, "virtio_mmio.device=4K@0x%llx:%u", static_cast<unsigned long long>(placement.base),
        placement.irq);
    return text;
}

VirtioMmioSlot::VirtioMmioSlot(
    std::unique_ptr<VirtioDevice> device, VirtioMmioPlacement placement, EventFd irq, EventLoop& loop)
    : m_placement(placement)
    , m_loop(loop)
    , m_irq(std::move(irq))
    , m_trigger(m_irq)
    , m_device(std::move(device))
{
}

VirtioMmioSlot::~VirtioMmioSlot()
{
    for (auto& kick : m_kicks) {
        if (kick->poll)
            (void)m_loop.cancel(*kick->poll);
        if (kick->registered)
            (void)m_loop.unregister_file(kick->file);
    }
}

Result<std::unique_ptr<VirtioMmioSlot>> VirtioMmioSlot::create(std::unique_ptr<VirtioDevice> device,
    VirtioMmioPlacement placement, Vm& vm, GuestMemory& memory, Bus& mmio_bus, EventLoop& loop)
{
    auto irq = TRY(EventFd::create(EventFd::Mode::NonBlocking));
    std::unique_ptr<VirtioMmioSlot> slot(new VirtioMmioSlot(std::move(device), placement, std::move(irq), loop));
    TRY(slot->wire(vm, memory, mmio_bus));
    return slot;
}

Result<void> VirtioMmioSlot::wire(Vm& vm, GuestMemory& memory, Bus& mmio_bus)
{
    TRY_CONTEXT(vm.register_irqfd(m_irq, m_placement.irq), "virtio-mmio interrupt");
    m_transport = TRY(MmioTransport::create(memory, *m_device, m_trigger));
    TRY_CONTEXT(mmio_bus.insert(m_transport, m_placement.base, layout::virtio_mmio_slot_size), "virtio-mmio window");
    for (uint16_t index = 0; index < m_device->queue_count(); ++index)
        TRY(watch_queue(vm, index));
    return {};
}

Result<void> VirtioMmioSlot::watch_queue(Vm& vm, uint16_t index)
{
    auto kick = std::make_unique<QueueKick>(
        QueueKick { TRY(EventFd::create(EventFd::Mode::NonBlocking)), {}, false, std::nullopt });
    // The driver writes the queue index to QueueNotify as one 32-bit store (virtio 1.2 §4.2.2.2,
    // without VIRTIO_F_NOTIFICATION_DATA, which no husk device offers).
    TRY_CONTEXT(vm.register_ioeventfd(kick->event, m_placement.base + virtio::mmio::queue_notify,
                    virtio::mmio::register_width, IoSpace::Mmio, index),
        "virtio-mmio queue notification");
    kick->file = TRY(m_loop.register_file(kick->event.fd()));
    kick->registered = true;
    // The entry goes into m_kicks before its poll is armed: the completion looks it up there, and
    // the destructor finds (and cancels, unregisters) only what m_kicks holds.
    auto& entry = *m_kicks.emplace_back(std::move(kick));
    entry.poll
        = TRY(m_loop.poll(entry.file, POLLIN, Multishot::Yes, [this, index](int result) { on_kick(index, result); }));
    return {};
}

void VirtioMmioSlot::serve_all_queues()
{
    // A queue the driver never enabled is ignored by the transport, like a kick to it would be.
    for (uint16_t index = 0; index < m_device->queue_count(); ++index)
        m_transport->notify_queue(index);
}

void VirtioMmioSlot::on_kick(uint16_t index, int result)
{
    auto& kick = *m_kicks[index]; // wire() watches queue i as the i-th entry
    if (result < 0) {
        // The last completion of the poll: cancelled at destruction, or the kernel gave up.
        kick.poll.reset();
        if (result != -ECANCELED)
            log_error("virtio-mmio queue " + std::to_string(index) + " kick poll failed: " + std::to_string(-result));
        return;
    }
    // Several guest kicks may have merged into one counter value; one notify covers them all,
    // because the device processes everything the available ring holds.
    (void)kick.event.consume();
    m_transport->notify_queue(index);
}

} // namespace husk
