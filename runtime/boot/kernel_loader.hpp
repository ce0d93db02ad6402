// Loads a Linux x86-64 kernel image into guest memory: an uncompressed ELF vmlinux (the fast
// path, no decompressor) or a bzImage (64-bit boot protocol entry). Images are untrusted input:
// every header field is checked before anything is copied, and errors name the problem.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/boot/boot_params.hpp"
#include "runtime/memory/guest_memory.hpp"

#include <cstdint>
#include <optional>
#include <span>

namespace husk {

enum class KernelFormat { Elf, BzImage };

struct LoadedKernel {
    KernelFormat format { KernelFormat::Elf };
    GuestAddress entry; // 64-bit entry point (guest-physical), for kvm_regs.rip
    // First byte after the kernel: the end of the highest segment (memsz) for a vmlinux; for a
    // bzImage the end of the image or of the init_size bytes it decompresses into (from its
    // pref_address, 16 MiB for usual configs), whichever is higher. An initrd goes above this.
    GuestAddress end;
    std::optional<SetupHeader> setup_header; // bzImage only: goes into the zero page
};

// Detects the format by its magic: "\x7fELF" at 0 or "HdrS" at 0x202. With `file` (the image's
// own file) page-aligned parts are mapped instead of copied (GuestMemory::write_from_file): for a
// vmlinux every PT_LOAD segment, so setup copies nothing and VMs share the kernel's pages.
Result<LoadedKernel> load_kernel(GuestMemory& memory, std::span<uint8_t const> image, MappableFile file = {});

// ELF64 x86-64 executable: each PT_LOAD copied to its p_paddr (zero-filled up to p_memsz), all at
// or above layout::high_memory_start; entry = e_entry. In a vmlinux e_entry is already physical:
// the linker script says ENTRY(phys_startup_64). Checked with readelf on our 6.1 guest kernel:
// e_entry 0x1000000 = phys_startup_64, startup_64 = _text = virtual 0xffffffff81000000, first
// PT_LOAD at paddr 0x1000000; .data..percpu has vaddr 0 but a proper paddr, hence p_paddr.
Result<LoadedKernel> load_elf_kernel(GuestMemory& memory, std::span<uint8_t const> image, MappableFile file = {});

// bzImage with boot protocol >= 2.06 and XLF_KERNEL_64: the protected-mode part goes to
// layout::high_memory_start, entry = that + 0x200.
Result<LoadedKernel> load_bzimage(GuestMemory& memory, std::span<uint8_t const> image, MappableFile file = {});

} // namespace husk
