// VirtioInterrupt: status bits, acknowledgement, NEEDS_RESET reported once, a failing line that
// does not stop the device, and the eventfd-backed trigger the VMM uses for irqfd.
#include "virtio/core/interrupt.hpp"

#include "virtio/testing/counting_interrupt_trigger.hpp"

#include <gtest/gtest.h>

using namespace husk;
namespace bits = husk::virtio::interrupt_status;

TEST(VirtioInterrupt, VirtioInterrupt_UsedBuffer_SetsBitAndRaisesLine)
{
    CountingInterruptTrigger trigger;
    VirtioInterrupt interrupt(trigger);

    interrupt.signal_used_buffer();

    EXPECT_EQ(interrupt.status(), bits::used_buffer);
    EXPECT_EQ(trigger.count(), 1u);
    interrupt.acknowledge(bits::used_buffer);
    EXPECT_EQ(interrupt.status(), 0u);
}

TEST(VirtioInterrupt, VirtioInterrupt_NeedsReset_SignalledOnceAsConfigChange)
{
    CountingInterruptTrigger trigger;
    VirtioInterrupt interrupt(trigger);

    interrupt.signal_needs_reset();
    interrupt.signal_needs_reset();

    EXPECT_TRUE(interrupt.needs_reset());
    EXPECT_EQ(interrupt.status(), bits::config_change);
    EXPECT_EQ(trigger.count(), 1u);
    interrupt.reset();
    EXPECT_FALSE(interrupt.needs_reset());
    EXPECT_EQ(interrupt.status(), 0u);
}

TEST(VirtioInterrupt, VirtioInterrupt_BrokenLine_IsCountedNotFatal)
{
    CountingInterruptTrigger trigger(CountingInterruptTrigger::Behaviour::Fail);
    VirtioInterrupt interrupt(trigger);

    interrupt.signal_used_buffer();
    interrupt.signal_config_change();

    EXPECT_EQ(interrupt.trigger_failures(), 2u);
    EXPECT_EQ(interrupt.status(), bits::used_buffer | bits::config_change);
    EXPECT_EQ(interrupt.config_generation(), 1u);
}

TEST(VirtioInterrupt, EventFdInterruptTrigger_Trigger_SignalsEventFd)
{
    auto event = EventFd::create();
    ASSERT_TRUE(event);
    EventFdInterruptTrigger trigger(*event);
    VirtioInterrupt interrupt(trigger);

    interrupt.signal_used_buffer();
    interrupt.signal_used_buffer();

    auto count = event->consume();
    ASSERT_TRUE(count);
    EXPECT_EQ(*count, 2u);
}
