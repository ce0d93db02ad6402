// Real KVM smoke tests with a tiny real-mode guest: port I/O exits in both directions, HLT,
// immediate_exit, the MSR count check, and a kick from another thread stopping a spinning vCPU.
// They need /dev/kvm and are skipped loudly without it (tiny_guest.hpp, which also overrides the
// PVM refusal: PVM is fine for real-mode code).
#include "runtime/kvm/vcpu_kick.hpp"
#include "tests/unit/runtime/kvm/tiny_guest.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <gtest/gtest.h>
#include <thread>
#include <unistd.h>

using namespace husk;
using namespace std::chrono_literals;

TEST(Vcpu, OutThenHlt_ExitsWithIoThenHlt)
{
    // mov al, 0x42 ; out 0x10, al ; hlt
    MAKE_TINY_GUEST_OR_SKIP(guest, 0xb0, 0x42, 0xe6, 0x10, 0xf4);

    auto first = guest->vcpu.run();
    ASSERT_TRUE(first) << first.error().message;
    auto const* io = std::get_if<IoExit>(&*first);
    ASSERT_NE(io, nullptr) << describe_exit(*first);
    EXPECT_EQ(io->port, 0x10);
    EXPECT_EQ(io->direction, AccessDirection::Write);
    EXPECT_EQ(io->size, 1);
    EXPECT_EQ(io->count, 1u);
    ASSERT_EQ(io->data.size(), 1u);
    EXPECT_EQ(io->data[0], 0x42);

    auto second = guest->vcpu.run();
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_TRUE(std::holds_alternative<HltExit>(*second)) << describe_exit(*second);
}

TEST(Vcpu, InData_ReachesTheGuest)
{
    // in al, 0x11 ; out 0x12, al ; hlt
    MAKE_TINY_GUEST_OR_SKIP(guest, 0xe4, 0x11, 0xe6, 0x12, 0xf4);

    auto read = guest->vcpu.run();
    ASSERT_TRUE(read);
    auto const* in = std::get_if<IoExit>(&*read);
    ASSERT_NE(in, nullptr) << describe_exit(*read);
    EXPECT_EQ(in->direction, AccessDirection::Read);
    EXPECT_EQ(in->port, 0x11);
    in->data[0] = 0x5a;

    auto write = guest->vcpu.run();
    ASSERT_TRUE(write);
    auto const* out = std::get_if<IoExit>(&*write);
    ASSERT_NE(out, nullptr) << describe_exit(*write);
    EXPECT_EQ(out->port, 0x12);
    EXPECT_EQ(out->data[0], 0x5a);
}

TEST(Vcpu, ImmediateExitSet_ReturnsInterruptedWithoutRunning)
{
    MAKE_TINY_GUEST_OR_SKIP(guest, 0xb0, 0x42, 0xe6, 0x10, 0xf4);
    guest->vcpu.set_immediate_exit(true);
    auto exit = guest->vcpu.run();
    ASSERT_TRUE(exit);
    EXPECT_TRUE(std::holds_alternative<InterruptedExit>(*exit)) << describe_exit(*exit);

    guest->vcpu.set_immediate_exit(false);
    auto next = guest->vcpu.run();
    ASSERT_TRUE(next);
    EXPECT_TRUE(std::holds_alternative<IoExit>(*next)) << describe_exit(*next);
}

TEST(Vcpu, UnknownMsr_IsReportedNotSilentlyDropped)
{
    MAKE_TINY_GUEST_OR_SKIP(guest, 0xf4);
    constexpr uint32_t msr_sysenter_cs = 0x174;
    constexpr uint32_t msr_that_does_not_exist = 0x0bad'0000;
    std::array<kvm_msr_entry, 2> entries {};
    entries[0].index = msr_sysenter_cs;
    entries[1].index = msr_that_does_not_exist;
    auto result = guest->vcpu.set_msrs(entries);
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("0xbad0000"), std::string::npos) << result.error().message;

    std::array<kvm_msr_entry, 1> valid {};
    valid[0].index = msr_sysenter_cs;
    valid[0].data = 0x10;
    ASSERT_TRUE(guest->vcpu.set_msrs(valid));
    valid[0].data = 0;
    ASSERT_TRUE(guest->vcpu.get_msrs(valid));
    EXPECT_EQ(valid[0].data, 0x10u);
}

TEST(Vcpu, SetMsrsUntilRefused_CountsWhatWasSetBeforeTheRefusedOne)
{
    MAKE_TINY_GUEST_OR_SKIP(guest, 0xf4);
    constexpr uint32_t msr_sysenter_cs = 0x174;
    constexpr uint32_t msr_sysenter_esp = 0x175;
    constexpr uint32_t msr_that_does_not_exist = 0x0bad'0000;
    std::array<kvm_msr_entry, 3> entries {};
    entries[0] = { msr_sysenter_cs, 0, 0x10 };
    entries[1] = { msr_that_does_not_exist, 0, 1 };
    entries[2] = { msr_sysenter_esp, 0, 0x2000 };

    auto set = guest->vcpu.set_msrs_until_refused(entries);

    ASSERT_TRUE(set) << set.error().message;
    EXPECT_EQ(*set, 1u);
    auto rest = guest->vcpu.set_msrs_until_refused(std::span(entries).subspan(2));
    ASSERT_TRUE(rest) << rest.error().message;
    EXPECT_EQ(*rest, 1u);
    std::array<kvm_msr_entry, 2> read {};
    read[0].index = msr_sysenter_cs;
    read[1].index = msr_sysenter_esp;
    ASSERT_TRUE(guest->vcpu.get_msrs(read));
    EXPECT_EQ(read[0].data, 0x10u);
    EXPECT_EQ(read[1].data, 0x2000u);
}

TEST(Vcpu, RegisterDump_NamesTheRegisters)
{
    MAKE_TINY_GUEST_OR_SKIP(guest, 0xf4);
    auto dump = guest->vcpu.register_dump();
    EXPECT_NE(dump.find("rip=0000000000001000"), std::string::npos) << dump;
    EXPECT_NE(dump.find("cr0="), std::string::npos);
    EXPECT_NE(dump.find("efer="), std::string::npos);
    EXPECT_NE(dump.find("cs=0000 base=0000000000000000"), std::string::npos) << dump;
}

TEST(Vcpu, KickFromAnotherThread_StopsSpinningGuestWithin100ms)
{
    // jmp $ : spins forever without exiting to user space.
    MAKE_TINY_GUEST_OR_SKIP(guest, 0xeb, 0xfe);
    ASSERT_TRUE(install_vcpu_kick_handler());

    std::atomic<bool> interrupted { false };
    std::atomic<int> other_exits { 0 };
    std::thread runner([&] {
        for (;;) {
            auto exit = guest->vcpu.run();
            if (!exit || std::holds_alternative<InterruptedExit>(*exit)) {
                interrupted = exit.has_value();
                return;
            }
            ++other_exits;
        }
    });
    std::this_thread::sleep_for(50ms); // let it enter KVM_RUN and spin
    auto kicked_at = std::chrono::steady_clock::now();
    ASSERT_TRUE(kick_vcpu(guest->vcpu, runner.native_handle()));
    runner.join();
    auto stop_latency = std::chrono::steady_clock::now() - kicked_at;

    EXPECT_TRUE(interrupted);
    EXPECT_EQ(other_exits, 0);
    EXPECT_LT(stop_latency, 100ms);
}

TEST(Vm, IrqchipAndTss_AreAccepted)
{
    if (::access("/dev/kvm", R_OK | W_OK) != 0)
        GTEST_SKIP() << "/dev/kvm is missing or not accessible on this host: KVM smoke test NOT RUN";
    auto kvm = Kvm::open(PvmPolicy::Allow);
    ASSERT_TRUE(kvm) << kvm.error().message;
    auto vm = Vm::create(*kvm);
    ASSERT_TRUE(vm) << vm.error().message;
    EXPECT_TRUE(vm->set_tss_address(kvm_tss_address));
    EXPECT_TRUE(vm->set_identity_map_address(kvm_identity_map_address));
    auto irqchip = vm->create_irqchip();
    EXPECT_TRUE(irqchip) << irqchip.error().message;
    auto event = EventFd::create();
    ASSERT_TRUE(event);
    EXPECT_TRUE(vm->register_irqfd(*event, 4));
    EXPECT_TRUE(vm->register_ioeventfd(*event, 0xd000'0050, 4, IoSpace::Mmio));
    EXPECT_FALSE(vm->register_ioeventfd(*event, 0xd000'0050, 3, IoSpace::Mmio));
    auto second_queue = EventFd::create();
    ASSERT_TRUE(second_queue);
    EXPECT_TRUE(vm->register_ioeventfd(*second_queue, 0xd000'1050, 4, IoSpace::Mmio, 1));
    EXPECT_TRUE(vm->set_irq_line(4, IrqLevel::High));
    EXPECT_TRUE(vm->set_irq_line(4, IrqLevel::Low));
    auto cpuid = kvm->supported_cpuid();
    ASSERT_TRUE(cpuid) << cpuid.error().message;
    EXPECT_FALSE(cpuid->empty());
}

TEST(Kvm, PvmHostWithoutOverride_IsRefusedOrHardwareOpens)
{
    if (::access("/dev/kvm", R_OK | W_OK) != 0)
        GTEST_SKIP() << "/dev/kvm is missing or not accessible on this host: KVM smoke test NOT RUN";
    auto kvm = Kvm::open(PvmPolicy::Refuse);
    if (detect_kvm_flavour("/sys") == KvmFlavour::Pvm) {
        ASSERT_FALSE(kvm);
        EXPECT_NE(kvm.error().message.find("PVM"), std::string::npos);
    } else {
        EXPECT_TRUE(kvm) << kvm.error().message;
    }
}
