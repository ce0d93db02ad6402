// TinyGuest: a VM with 64 KiB of memory and one vCPU in real mode at code_address, running a
// few bytes of machine code, for the tests that need a real vCPU (the KVM smoke tests, the vCPU
// runner). They need /dev/kvm and skip loudly without it; PVM is fine for real-mode code, so the
// PVM refusal is overridden.
#pragma once

#include "runtime/kvm/kvm.hpp"
#include "runtime/kvm/vcpu.hpp"
#include "runtime/kvm/vm.hpp"

#include <gtest/gtest.h>
#include <optional>
#include <span>
#include <string>
#include <unistd.h>

namespace husk::testing {

inline constexpr GuestAddress code_address(0x1000);
inline constexpr uint64_t guest_memory_size = 0x10000;

struct TinyGuest {
    Kvm kvm;
    Vm vm;
    GuestMemory memory;
    Vcpu vcpu;
};

// InKernel: the VM gets KVM's irqchip (and the TSS and identity map it needs first), which must
// exist before the vCPU; irqfds need it. A HLT then stays in the kernel: leave through port I/O.
enum class TinyGuestIrqchip { None, InKernel };

// Real mode with CS base 0 and IP at code_address, running `code`.
inline std::optional<TinyGuest> make_tiny_guest(
    std::span<uint8_t const> code, std::string& skip_reason, TinyGuestIrqchip irqchip = TinyGuestIrqchip::None)
{
    if (::access("/dev/kvm", R_OK | W_OK) != 0) {
        skip_reason = "/dev/kvm is missing or not accessible on this host: KVM smoke test NOT RUN";
        return std::nullopt;
    }
    auto kvm = Kvm::open(PvmPolicy::Allow);
    EXPECT_TRUE(kvm) << kvm.error().message;
    if (!kvm)
        return std::nullopt;
    auto vm = Vm::create(*kvm);
    EXPECT_TRUE(vm) << vm.error().message;
    auto memory = GuestMemory::create({ { GuestAddress(0), guest_memory_size } });
    EXPECT_TRUE(memory);
    if (!vm || !memory)
        return std::nullopt;
    EXPECT_TRUE(vm->map_memory(*memory));
    EXPECT_TRUE(memory->write(code_address, code));
    if (irqchip == TinyGuestIrqchip::InKernel) {
        EXPECT_TRUE(vm->set_tss_address(kvm_tss_address));
        EXPECT_TRUE(vm->set_identity_map_address(kvm_identity_map_address));
        auto created = vm->create_irqchip();
        EXPECT_TRUE(created) << created.error().message;
    }
    auto vcpu = Vcpu::create(*vm, 0);
    EXPECT_TRUE(vcpu) << vcpu.error().message;
    if (!vcpu)
        return std::nullopt;
    auto sregs = vcpu->get_sregs();
    EXPECT_TRUE(sregs);
    sregs->cs.base = 0;
    sregs->cs.selector = 0;
    EXPECT_TRUE(vcpu->set_sregs(*sregs));
    kvm_regs regs {};
    regs.rip = code_address.value();
    regs.rflags = 0x2; // bit 1 is reserved and must be set
    EXPECT_TRUE(vcpu->set_regs(regs));
    return TinyGuest { std::move(kvm).value(), std::move(vm).value(), std::move(memory).value(),
        std::move(vcpu).value() };
}

#define MAKE_TINY_GUEST_OR_SKIP(name, ...) MAKE_TINY_GUEST_WITH_OR_SKIP(name, None, __VA_ARGS__)
// `irqchip` names a TinyGuestIrqchip.
#define MAKE_TINY_GUEST_WITH_OR_SKIP(name, irqchip, ...)                                                               \
    static constexpr uint8_t name##_code[] = { __VA_ARGS__ };                                                          \
    std::string skip_reason;                                                                                           \
    auto name                                                                                                          \
        = ::husk::testing::make_tiny_guest(name##_code, skip_reason, ::husk::testing::TinyGuestIrqchip::irqchip);      \
    if (!skip_reason.empty())                                                                                          \
        GTEST_SKIP() << skip_reason;                                                                                   \
    ASSERT_TRUE(name.has_value())

} // namespace husk::testing
