// ELF vmlinux loader. Every field of the file is checked before any byte reaches guest memory;
// offsets and sizes from the file are summed in overflow-safe 64-bit arithmetic.
#include "runtime/boot/kernel_loader.hpp"

#include "runtime/base/hex.hpp"
#include "runtime/boot/layout.hpp"

#include <algorithm>
#include <cstring>
#include <elf.h>
#include <vector>

namespace husk {

static_assert(sizeof(Elf64_Ehdr) == 64);
static_assert(sizeof(Elf64_Phdr) == 56);

namespace {

    // Reads a trivially copyable object from the file at `offset`; the caller has bounds-checked.
    template<typename T>
    T read_at(std::span<uint8_t const> image, uint64_t offset)
    {
        T object;
        std::memcpy(&object, image.data() + offset, sizeof object);
        return object;
    }

    Result<Elf64_Ehdr> parse_elf_header(std::span<uint8_t const> image)
    {
        if (image.size() < sizeof(Elf64_Ehdr))
            return fail("ELF kernel is too short (" + std::to_string(image.size()) + " bytes) for an ELF header");
        auto header = read_at<Elf64_Ehdr>(image, 0);
        if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0)
            return fail("ELF kernel has a bad magic number");
        if (header.e_ident[EI_CLASS] != ELFCLASS64)
            return fail("ELF kernel is not ELFCLASS64 (64-bit)");
        if (header.e_ident[EI_DATA] != ELFDATA2LSB)
            return fail("ELF kernel is not little endian");
        if (header.e_machine != EM_X86_64)
            return fail("ELF kernel is for machine " + std::to_string(header.e_machine) + ", not EM_X86_64");
        if (header.e_type != ET_EXEC)
            return fail("ELF kernel is not an executable (e_type " + std::to_string(header.e_type) + ")");
        if (header.e_phentsize != sizeof(Elf64_Phdr))
            return fail("ELF kernel program header size is " + std::to_string(header.e_phentsize) + ", expected "
                + std::to_string(sizeof(Elf64_Phdr)));
        if (header.e_phnum == PN_XNUM)
            return fail("ELF kernel uses extended program header numbering, which a vmlinux never needs");
        // e_phnum <= 0xffff, so the table size cannot overflow; its offset can be anything.
        uint64_t table_size = uint64_t { header.e_phnum } * sizeof(Elf64_Phdr);
        if (header.e_phoff > image.size() || table_size > image.size() - header.e_phoff)
            return fail("ELF kernel program header table (offset " + hex(header.e_phoff) + ", "
                + std::to_string(header.e_phnum) + " entries) lies outside the file");
        return header;
    }

    Result<void> check_segment(GuestMemory const& memory, std::span<uint8_t const> image, Elf64_Phdr const& segment)
    {
        std::string const where = "ELF kernel segment at " + hex(segment.p_paddr);
        if (segment.p_offset > image.size() || segment.p_filesz > image.size() - segment.p_offset)
            return fail(where + " is truncated: file bytes " + hex(segment.p_offset) + "+" + hex(segment.p_filesz)
                + " run past the end of the " + std::to_string(image.size()) + "-byte file");
        if (segment.p_filesz > segment.p_memsz)
            return fail(
                where + " has p_filesz " + hex(segment.p_filesz) + " larger than p_memsz " + hex(segment.p_memsz));
        if (segment.p_memsz > memory.total_size())
            return fail(where + " has a huge p_memsz " + hex(segment.p_memsz) + ", larger than guest memory");
        if (segment.p_paddr < layout::high_memory_start.value())
            return fail(
                where + " is below " + hex(layout::high_memory_start.value()) + ", where the boot structures live");
        if (!memory.contains(GuestAddress(segment.p_paddr), segment.p_memsz))
            return fail(where + " of " + hex(segment.p_memsz) + " bytes is outside guest RAM");
        return {};
    }

} // namespace

Result<LoadedKernel> load_elf_kernel(GuestMemory& memory, std::span<uint8_t const> image, MappableFile file)
{
    auto header = TRY(parse_elf_header(image));

    std::vector<Elf64_Phdr> segments;
    for (uint64_t i = 0; i < header.e_phnum; ++i) {
        auto segment = read_at<Elf64_Phdr>(image, header.e_phoff + i * sizeof(Elf64_Phdr));
        if (segment.p_type != PT_LOAD)
            continue;
        TRY(check_segment(memory, image, segment));
        segments.push_back(segment);
    }
    if (segments.empty())
        return fail("ELF kernel has no PT_LOAD segment");

    std::sort(segments.begin(), segments.end(), [](auto& a, auto& b) { return a.p_paddr < b.p_paddr; });
    // check_segment proved p_paddr + p_memsz lies inside guest memory, so the sums cannot overflow.
    for (size_t i = 1; i < segments.size(); ++i) {
        if (segments[i - 1].p_paddr + segments[i - 1].p_memsz > segments[i].p_paddr)
            return fail("ELF kernel PT_LOAD segments at " + hex(segments[i - 1].p_paddr) + " and "
                + hex(segments[i].p_paddr) + " overlap");
    }
    bool entry_loaded = std::any_of(segments.begin(), segments.end(), [&](auto& segment) {
        return header.e_entry >= segment.p_paddr && header.e_entry - segment.p_paddr < segment.p_filesz;
    });
    if (!entry_loaded)
        return fail("ELF kernel entry point " + hex(header.e_entry) + " is outside every loaded segment");

    uint64_t end = 0;
    for (auto const& segment : segments) {
        GuestAddress address(segment.p_paddr);
        TRY_CONTEXT(memory.write_from_file(address, image.subspan(segment.p_offset, segment.p_filesz), file, segment.p_offset),
            "cannot copy an ELF kernel segment");
        // The tail beyond the file bytes is .bss (and .brk): the kernel expects it zeroed.
        TRY_CONTEXT(memory.zero(address.unchecked_add(segment.p_filesz), segment.p_memsz - segment.p_filesz),
            "cannot zero an ELF kernel segment");
        end = std::max(end, segment.p_paddr + segment.p_memsz);
    }
    return LoadedKernel { KernelFormat::Elf, GuestAddress(header.e_entry), GuestAddress(end), std::nullopt };
}

} // namespace husk
