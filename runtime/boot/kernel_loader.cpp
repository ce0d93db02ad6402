// Kernel format detection and the bzImage loader (Linux x86 boot protocol, 64-bit entry).
#include "runtime/boot/kernel_loader.hpp"

#include "runtime/base/hex.hpp"
#include "runtime/boot/layout.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

namespace husk {

namespace {

    constexpr std::array<uint8_t, 4> elf_magic { 0x7f, 'E', 'L', 'F' };
    constexpr uint64_t sector_size = 512;
    constexpr uint8_t default_setup_sects = 4; // setup_sects 0 means 4, for ancient kernels
    constexpr uint64_t header_end_base = 0x202;
    constexpr uint64_t jump_displacement_offset = 0x201;
    constexpr uint64_t entry_64_offset = 0x200; // startup_64 of the decompressor, from the load address
    constexpr uint16_t pref_address_version = 0x020a; // pref_address exists from protocol 2.10

    bool has_elf_magic(std::span<uint8_t const> image)
    {
        return image.size() >= elf_magic.size() && std::equal(elf_magic.begin(), elf_magic.end(), image.begin());
    }

    bool has_bzimage_magic(std::span<uint8_t const> image)
    {
        uint64_t const offset = boot_protocol::setup_header_offset + offsetof(SetupHeader, header);
        uint32_t magic = 0;
        if (image.size() < offset + sizeof magic)
            return false;
        std::memcpy(&magic, image.data() + offset, sizeof magic);
        return magic == boot_protocol::header_magic;
    }

    // Where the decompressor will put and run the kernel, as arch/x86/boot/compressed/head_64.S
    // computes it: a relocatable kernel runs at its load address rounded up to kernel_alignment but
    // never below its preferred address (LOAD_PHYSICAL_ADDR); any other kernel at that address.
    Result<uint64_t> decompression_address(SetupHeader const& header, uint64_t load)
    {
        uint64_t preferred = header.version >= pref_address_version ? header.pref_address : 0;
        if (!header.relocatable_kernel)
            return std::max(load, preferred);
        uint64_t alignment = header.kernel_alignment;
        if (!std::has_single_bit(alignment))
            return fail("bzImage kernel_alignment " + hex(alignment) + " is not a power of two");
        return std::max((load + alignment - 1) & ~(alignment - 1), preferred);
    }

} // namespace

Result<LoadedKernel> load_kernel(GuestMemory& memory, std::span<uint8_t const> image, MappableFile file)
{
    if (has_elf_magic(image))
        return load_elf_kernel(memory, image, file);
    if (has_bzimage_magic(image))
        return load_bzimage(memory, image, file);
    return fail("kernel image is neither an ELF vmlinux nor a bzImage (no ELF or HdrS magic)");
}

Result<LoadedKernel> load_bzimage(GuestMemory& memory, std::span<uint8_t const> image, MappableFile file)
{
    uint64_t const header_offset = boot_protocol::setup_header_offset;
    if (image.size() < header_offset + sizeof(SetupHeader))
        return fail("bzImage is too short (" + std::to_string(image.size()) + " bytes) to hold a setup header");

    SetupHeader header {};
    std::memcpy(&header, image.data() + header_offset, sizeof header);
    if (header.header != boot_protocol::header_magic)
        return fail("bzImage has no \"HdrS\" setup header magic at 0x202");
    if (header.boot_flag != boot_protocol::boot_flag_magic)
        return fail("bzImage boot flag is " + hex(header.boot_flag) + ", expected 0xaa55");
    if (header.version < boot_protocol::minimum_version)
        return fail("bzImage boot protocol " + hex(header.version) + " is older than the required 2.06");
    // The header ends at 0x202 + the jump's displacement byte; fields past it are setup code,
    // not header, and must not reach the zero page.
    uint64_t header_end = header_end_base + image[jump_displacement_offset];
    if (header_end < header_offset + offsetof(SetupHeader, xloadflags) + sizeof header.xloadflags)
        return fail("bzImage setup header ends at " + hex(header_end) + ", before its xloadflags field");
    uint64_t header_bytes = std::min<uint64_t>(header_end - header_offset, sizeof header);
    std::memset(reinterpret_cast<uint8_t*>(&header) + header_bytes, 0, sizeof header - header_bytes);
    if (!(header.xloadflags & boot_protocol::xloadflag_kernel_64))
        return fail("bzImage has no 64-bit entry point (XLF_KERNEL_64 not set): not an x86-64 kernel");
    if (!(header.loadflags & boot_protocol::loadflag_loaded_high))
        return fail("bzImage is a zImage (LOADED_HIGH not set) and cannot be loaded at 1 MiB");

    uint64_t setup_sects = header.setup_sects == 0 ? default_setup_sects : header.setup_sects;
    uint64_t setup_size = (setup_sects + 1) * sector_size; // + the boot sector
    if (image.size() <= setup_size)
        return fail("bzImage of " + std::to_string(image.size()) + " bytes has no protected-mode kernel after its "
            + std::to_string(setup_size) + " bytes of setup code");
    auto kernel = image.subspan(setup_size);

    GuestAddress load = layout::high_memory_start;
    uint64_t run_address = TRY(decompression_address(header, load.value()));
    // The decompressor needs init_size bytes from where the kernel will run; the image itself
    // sits at the load address. Both must be RAM, and nothing else may go there.
    uint64_t end = load.value() + kernel.size();
    if (header.init_size > UINT64_MAX - run_address)
        return fail("bzImage init_size " + hex(header.init_size) + " overflows from " + hex(run_address));
    end = std::max(end, run_address + header.init_size);
    if (!memory.contains(load, end - load.value()))
        return fail("bzImage needs guest RAM from " + hex(load.value()) + " to " + hex(end) + " (init_size "
            + hex(header.init_size) + " from " + hex(run_address) + "), more than guest RAM holds there");
    TRY_CONTEXT(memory.write_from_file(load, kernel, file, setup_size), "cannot copy the bzImage into guest memory");

    return LoadedKernel {
        KernelFormat::BzImage,
        load.unchecked_add(entry_64_offset),
        GuestAddress(end),
        header,
    };
}

} // namespace husk
