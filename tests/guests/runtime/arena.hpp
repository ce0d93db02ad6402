// Guest memory for rings and buffers: a bump allocator over RAM the ELF does not use. Identity
// paging makes a pointer its own guest-physical address. Nothing is freed: a case is one boot.
#pragma once

#include <cstddef>
#include <cstdint>

namespace guest {

// Returns zeroed, `alignment`-aligned memory; finishes the case with SetupFailed when exhausted.
uint64_t allocate(uint64_t size, uint64_t alignment = 16);

template<typename T>
T* allocate_array(uint64_t count, uint64_t alignment = 16)
{
    return reinterpret_cast<T*>(allocate(count * sizeof(T), alignment));
}

inline constexpr uint64_t arena_start = 0x0100'0000; // 16 MiB
inline constexpr uint64_t arena_end = 0x03c0'0000; // 60 MiB
// husk-vmm runs every case with --memory 64M; addresses at or above this are outside RAM.
inline constexpr uint64_t guest_ram_size = 0x0400'0000;

} // namespace guest
