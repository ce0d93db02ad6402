// Port and MMIO access for the hostile-driver guest. Every width the ISA has, at any address:
// the cases need odd widths and unaligned accesses on purpose. Accesses are volatile and the
// asm forms keep the compiler from merging or splitting them.
#pragma once

#include <cstdint>

namespace guest {

inline void outb(uint16_t port, uint8_t value) { asm volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }
inline void outl(uint16_t port, uint32_t value) { asm volatile("outl %0, %1" : : "a"(value), "Nd"(port)); }

inline uint8_t mmio_read8(uint64_t address)
{
    uint8_t value;
    asm volatile("movb (%1), %0" : "=q"(value) : "r"(address) : "memory");
    return value;
}
inline uint16_t mmio_read16(uint64_t address)
{
    uint16_t value;
    asm volatile("movw (%1), %0" : "=r"(value) : "r"(address) : "memory");
    return value;
}
inline uint32_t mmio_read32(uint64_t address)
{
    uint32_t value;
    asm volatile("movl (%1), %0" : "=r"(value) : "r"(address) : "memory");
    return value;
}
inline uint64_t mmio_read64(uint64_t address)
{
    uint64_t value;
    asm volatile("movq (%1), %0" : "=r"(value) : "r"(address) : "memory");
    return value;
}
inline void mmio_write8(uint64_t address, uint8_t value)
{
    asm volatile("movb %0, (%1)" : : "q"(value), "r"(address) : "memory");
}
inline void mmio_write16(uint64_t address, uint16_t value)
{
    asm volatile("movw %0, (%1)" : : "r"(value), "r"(address) : "memory");
}
inline void mmio_write32(uint64_t address, uint32_t value)
{
    asm volatile("movl %0, (%1)" : : "r"(value), "r"(address) : "memory");
}
inline void mmio_write64(uint64_t address, uint64_t value)
{
    asm volatile("movq %0, (%1)" : : "r"(value), "r"(address) : "memory");
}

// Orders the guest's ring stores before the device may see the next store (x86 is TSO, so a
// compiler barrier is enough for store/store; `full_barrier` covers store/load for the cases
// that read what the device wrote right after publishing).
inline void compiler_barrier() { asm volatile("" ::: "memory"); }
inline void full_barrier() { asm volatile("mfence" ::: "memory"); }
inline void cpu_relax() { asm volatile("pause" ::: "memory"); }

} // namespace guest
