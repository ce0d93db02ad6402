// Where virtio-mmio slots sit and how they are announced to Linux, and a guest kick reaching a
// slot's device through its ioeventfd and the event loop.
#include "runtime/boot/layout.hpp"
#include "runtime/vmm/virtio_mmio_slot.hpp"
#include "tests/unit/runtime/kvm/tiny_guest.hpp"
#include "virtio/rng/rng_device.hpp"
#include "virtio/testing/mock_driver.hpp"

#include <array>
#include <chrono>
#include <gtest/gtest.h>
#include <memory>
#include <set>

using namespace husk;

TEST(VirtioMmioPlacement, Slots_AreConsecutivePagesFromTheBaseWithDistinctPins)
{
    std::set<uint32_t> pins;
    for (size_t index = 0; index < layout::virtio_mmio_max_slots; ++index) {
        auto placement = virtio_mmio_placement(index);
        EXPECT_EQ(placement.base, layout::virtio_mmio_base.value() + index * layout::virtio_mmio_slot_size);
        EXPECT_TRUE(pins.insert(placement.irq).second) << "pin " << placement.irq << " used twice";
        // Inside the IO-APIC's 24 pins, never a legacy one the guest may claim.
        EXPECT_LT(placement.irq, 24u);
        for (uint32_t legacy : { 0u, 1u, 2u, 3u, 4u, 8u, 12u })
            EXPECT_NE(placement.irq, legacy);
    }
    auto last = virtio_mmio_placement(layout::virtio_mmio_max_slots - 1);
    EXPECT_LE(last.base + layout::virtio_mmio_slot_size, layout::ioapic_address.value());
}

TEST(VirtioMmioKernelArgument, Placement_IsWrittenAsLinuxParsesIt)
{
    EXPECT_EQ(virtio_mmio_kernel_argument({ 0xd000'0000, 5 }), "virtio_mmio.device=4K@0xd0000000:5");
    EXPECT_EQ(virtio_mmio_kernel_argument({ 0xd000'3000, 23 }), "virtio_mmio.device=4K@0xd0003000:23");
}

// A guest kick through the slot's ioeventfd is served by the kick poll on the event loop: the
// poll is armed once its queue's entry exists. A tiny real-mode guest with a 4 GiB data segment
// stores 0 (queue 0) to the slot's QueueNotify, then leaves through port I/O; the driver side is
// a MockDriver on the slot's transport. Needs /dev/kvm and io_uring; skipped loudly without them.
TEST(VirtioMmioSlot, GuestKickThroughIoeventfd_IsServedOnTheEventLoop)
{
    constexpr uint16_t exit_port = 0x10;
    MAKE_TINY_GUEST_WITH_OR_SKIP(guest, InKernel, 0x66, 0xb8, 0x00, 0x00, 0x00, 0x00, // mov eax, 0 (the queue index)
        0x66, 0xbf, 0x50, 0x00, 0x00, 0xd0, // mov edi, 0xd0000050 (slot 0's QueueNotify)
        0x67, 0x66, 0x89, 0x07, // mov [edi], eax
        0xe6, exit_port, // out 0x10, al
        0xeb, 0xfe); // jmp $
    auto sregs = guest->vcpu.get_sregs();
    ASSERT_TRUE(sregs);
    sregs->ds.base = 0;
    sregs->ds.limit = 0xffff'ffff; // "unreal" mode: 32-bit offsets in real mode
    sregs->ds.g = 1;
    ASSERT_TRUE(guest->vcpu.set_sregs(*sregs));
    auto loop = EventLoop::create(EventLoopConfig {});
    if (!loop && loop.error().message.find("io_uring is unavailable") != std::string::npos)
        GTEST_SKIP() << "SKIPPING: this host refuses io_uring: " << loop.error().message;
    ASSERT_TRUE(loop) << loop.error().message;
    GetrandomEntropySource source;
    // Declared before the bus, which holds the transport too: like the Machine, the test destroys
    // the bus first, so the slot's device outlives the transport.
    std::unique_ptr<VirtioMmioSlot> slot;
    Bus mmio_bus;
    auto created = VirtioMmioSlot::create(
        std::make_unique<RngDevice>(source), virtio_mmio_placement(0), guest->vm, guest->memory, mmio_bus, *loop);
    ASSERT_TRUE(created) << created.error().message;
    slot = std::move(created).value();
    // Rings and the buffer in the upper half of the guest's 64 KiB; the code is at 0x1000.
    MockDriver driver(slot->transport(), guest->memory, GuestAddress(0x8000), 0x8000);
    std::array<uint16_t, 1> sizes { 16 };
    ASSERT_TRUE(driver.start(0, sizes));
    auto buffer = driver.allocate(32);
    ASSERT_TRUE(buffer);
    MockBuffer buffers[] = { { *buffer, 32, BufferAccess::DeviceWritable } };
    ASSERT_TRUE(driver.queue(0).add_chain(buffers));

    auto exit = guest->vcpu.run();

    ASSERT_TRUE(exit) << exit.error().message;
    auto const* io = std::get_if<IoExit>(&*exit);
    ASSERT_NE(io, nullptr) << "the QueueNotify store did not reach the ioeventfd: " << describe_exit(*exit);
    EXPECT_EQ(io->port, exit_port);
    auto served = loop->run_once(std::chrono::milliseconds(2000));
    ASSERT_TRUE(served) << served.error().message;
    EXPECT_GE(*served, 1u);
    auto used = driver.queue(0).pop_used();
    ASSERT_TRUE(used && used->has_value()) << "the kick was not served";
    EXPECT_EQ((*used)->length, 32u);
}
