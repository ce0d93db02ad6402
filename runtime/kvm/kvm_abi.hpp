// C++-safe replacements for the KVM uapi structs that end in a flexible array.
//
// Why: <linux/kvm.h> declares those arrays with __DECLARE_FLEX_ARRAY, which wraps them in an
// anonymous struct holding an empty struct. In C an empty struct has size 0; in C++ it has size
// 1, so in C++ sizeof(kvm_cpuid2) is 12 instead of 8, the entries start at offset 12 instead of
// 8, and the ioctl numbers (which encode the size) no longer match the kernel's: KVM answers
// EINVAL. Measured with g++ 12 and Debian 12's linux-libc-dev. So husk uses its own 8-byte
// headers and ioctl numbers for these calls; the element types (kvm_cpuid_entry2,
// kvm_msr_entry) have no flexible arrays and are used as is.
#pragma once

#include <cstdint>
#include <linux/kvm.h>
#include <sys/ioctl.h>

namespace husk::kvm_abi {

struct Cpuid2Header {
    uint32_t entry_count; // nent
    uint32_t padding;
    // kvm_cpuid_entry2 entries[] follows
};
static_assert(sizeof(Cpuid2Header) == 8);
static_assert(sizeof(kvm_cpuid_entry2) == 40);

struct MsrsHeader {
    uint32_t entry_count; // nmsrs
    uint32_t padding;
    // kvm_msr_entry entries[] follows
};
static_assert(sizeof(MsrsHeader) == 8);
static_assert(sizeof(kvm_msr_entry) == 16);

struct MsrListHeader {
    uint32_t entry_count; // nmsrs
    // uint32_t indices[] follows
};
static_assert(sizeof(MsrListHeader) == 4);

// struct kvm_xsave is 4096 bytes in C and 4100 in C++ (its `extra[]` member), so its ioctl
// numbers need this stand-in. KVM_GET_XSAVE2/KVM_SET_XSAVE move Vm::xsave_size() bytes.
struct XsaveArea {
    uint32_t region[1024];
};
static_assert(sizeof(XsaveArea) == 4096);

// The same encodings as the kernel's (C) definitions in include/uapi/linux/kvm.h.
inline constexpr unsigned long get_supported_cpuid = _IOWR(KVMIO, 0x05, Cpuid2Header);
inline constexpr unsigned long set_cpuid2 = _IOW(KVMIO, 0x90, Cpuid2Header);
inline constexpr unsigned long get_msrs = _IOWR(KVMIO, 0x88, MsrsHeader);
inline constexpr unsigned long set_msrs = _IOW(KVMIO, 0x89, MsrsHeader);
inline constexpr unsigned long get_msr_index_list = _IOWR(KVMIO, 0x02, MsrListHeader);
inline constexpr unsigned long get_xsave = _IOR(KVMIO, 0xa4, XsaveArea);
inline constexpr unsigned long set_xsave = _IOW(KVMIO, 0xa5, XsaveArea);
inline constexpr unsigned long get_xsave2 = _IOR(KVMIO, 0xcf, XsaveArea);

static_assert(get_supported_cpuid == 0xc008ae05);
static_assert(set_cpuid2 == 0x4008ae90);
static_assert(get_msrs == 0xc008ae88);
static_assert(set_msrs == 0x4008ae89);
static_assert(get_msr_index_list == 0xc004ae02);
static_assert(get_xsave == 0x9000aea4);
static_assert(set_xsave == 0x5000aea5);
static_assert(get_xsave2 == 0x9000aecf);

// The fixed-size structs husk passes by pointer: their sizes are part of the ioctl numbers.
static_assert(sizeof(kvm_regs) == 144);
static_assert(sizeof(kvm_sregs) == 312);
static_assert(sizeof(kvm_fpu) == 416);
static_assert(sizeof(kvm_lapic_state) == 1024);
static_assert(sizeof(kvm_mp_state) == 4);
static_assert(sizeof(kvm_userspace_memory_region) == 32);
static_assert(sizeof(kvm_irqfd) == 32);
static_assert(sizeof(kvm_ioeventfd) == 64);
static_assert(sizeof(kvm_irq_level) == 8);
static_assert(sizeof(kvm_run) == 2352);
static_assert(sizeof(kvm_xcrs) == 392);
static_assert(sizeof(kvm_vcpu_events) == 64);
static_assert(sizeof(kvm_debugregs) == 128);
static_assert(sizeof(kvm_irqchip) == 520);
static_assert(sizeof(kvm_clock_data) == 48);

} // namespace husk::kvm_abi
