// Real KVM: the state a snapshot reads (runtime/vmm/machine_snapshot_capture.cpp) can be written
// into a second VM, whose vCPU then continues exactly where the first one stopped; and the
// VM-wide devices' state reads and writes back. Run in the lab by lab_kvm (Vcpu.*, Vm.*, Kvm.*).
#include "tests/unit/runtime/kvm/tiny_guest.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <vector>

using namespace husk;

TEST(Kvm, MsrIndexList_ListsTheTscAndCanBeRead)
{
    MAKE_TINY_GUEST_OR_SKIP(guest, 0xf4);
    auto indices = guest->kvm.msr_index_list();
    ASSERT_TRUE(indices) << indices.error().message;
    EXPECT_NE(std::find(indices->begin(), indices->end(), 0x10u), indices->end()); // IA32_TSC
    auto msrs = guest->vcpu.get_readable_msrs(*indices);
    ASSERT_TRUE(msrs) << msrs.error().message;
    EXPECT_GT(msrs->size(), 0u);
    EXPECT_LE(msrs->size(), indices->size());
}

TEST(Vcpu, SavedState_ContinuesInAnotherVm)
{
    // mov al, 0x42 ; out 0x10, al ; inc al ; out 0x10, al ; hlt
    MAKE_TINY_GUEST_WITH_OR_SKIP(guest, InKernel, 0xb0, 0x42, 0xe6, 0x10, 0xfe, 0xc0, 0xe6, 0x10, 0xf4);
    auto first = guest->vcpu.run();
    ASSERT_TRUE(first);
    ASSERT_NE(std::get_if<IoExit>(&*first), nullptr) << describe_exit(*first);
    // Complete the exit without running on, as a pausing vCPU thread does.
    guest->vcpu.set_immediate_exit(true);
    auto completed = guest->vcpu.run();
    guest->vcpu.set_immediate_exit(false);
    ASSERT_TRUE(completed);
    ASSERT_TRUE(std::holds_alternative<InterruptedExit>(*completed)) << describe_exit(*completed);

    auto& from = guest->vcpu;
    auto regs = from.get_regs();
    auto sregs = from.get_sregs();
    auto xsave = from.get_xsave(guest->vm.xsave_size());
    auto xcrs = from.get_xcrs();
    auto lapic = from.get_lapic();
    auto indices = guest->kvm.msr_index_list();
    ASSERT_TRUE(indices);
    auto msrs = from.get_readable_msrs(*indices);
    auto mp_state = from.get_mp_state();
    auto events = from.get_vcpu_events();
    auto debugregs = from.get_debugregs();
    ASSERT_TRUE(regs && sregs && xsave && xcrs && lapic && msrs && mp_state && events && debugregs);

    // A second VM over a copy of the memory, as a restore maps the memory file.
    static constexpr uint8_t halt[] = { 0xf4 };
    std::string clone_skip_reason;
    auto clone = husk::testing::make_tiny_guest(halt, clone_skip_reason, husk::testing::TinyGuestIrqchip::InKernel);
    ASSERT_TRUE(clone.has_value()) << clone_skip_reason;
    std::vector<uint8_t> bytes(husk::testing::guest_memory_size);
    ASSERT_TRUE(guest->memory.read(GuestAddress(0), bytes));
    ASSERT_TRUE(clone->memory.write(GuestAddress(0), bytes));
    auto& to = clone->vcpu;
    ASSERT_TRUE(to.set_sregs(*sregs));
    ASSERT_TRUE(to.set_regs(*regs));
    ASSERT_TRUE(to.set_xsave(*xsave));
    ASSERT_TRUE(to.set_xcrs(*xcrs));
    ASSERT_TRUE(to.set_debugregs(*debugregs));
    ASSERT_TRUE(to.set_lapic(*lapic));
    for (auto const& msr : *msrs)
        (void)to.set_msrs(std::span(&msr, 1)); // what a restore does with a refused one: go on
    ASSERT_TRUE(to.set_mp_state(*mp_state));
    ASSERT_TRUE(to.set_vcpu_events(*events));

    auto next = to.run();
    ASSERT_TRUE(next) << next.error().message;
    auto const* io = std::get_if<IoExit>(&*next);
    ASSERT_NE(io, nullptr) << describe_exit(*next);
    EXPECT_EQ(io->port, 0x10);
    EXPECT_EQ(io->data[0], 0x43);
}

TEST(Vm, IrqchipAndClock_ReadAndWriteBack)
{
    MAKE_TINY_GUEST_WITH_OR_SKIP(guest, InKernel, 0xf4);
    for (uint32_t chip : { KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC }) {
        auto state = guest->vm.get_irqchip(chip);
        ASSERT_TRUE(state) << state.error().message;
        EXPECT_EQ(state->chip_id, chip);
        EXPECT_TRUE(guest->vm.set_irqchip(*state));
    }
    auto clock = guest->vm.get_clock();
    ASSERT_TRUE(clock) << clock.error().message;
    auto later = *clock;
    later.clock += 1'000'000'000;
    later.flags = 0;
    EXPECT_TRUE(guest->vm.set_clock(later));
    auto read_back = guest->vm.get_clock();
    ASSERT_TRUE(read_back);
    EXPECT_GE(read_back->clock, later.clock);
}
