// ELF vmlinux loader: a valid minimal kernel loads; each malformed variant is rejected with a
// message naming the problem.
#include "runtime/boot/kernel_loader.hpp"
#include "runtime/boot/layout.hpp"

#include <cstring>
#include <elf.h>
#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace husk;

namespace {

constexpr uint64_t kernel_address = 0x100'0000; // 16 MiB, where a vmlinux loads by default
constexpr uint64_t payload_offset = 0x1000;
constexpr uint64_t elf_ram_size = 64ull << 20;

// A minimal x86-64 executable: an ELF header, `segments` program headers and a payload of
// `payload_size` bytes (0x11, 0x22, ...) at payload_offset.
struct ElfImage {
    Elf64_Ehdr header {};
    std::vector<Elf64_Phdr> segments;
    std::vector<uint8_t> payload;

    ElfImage()
    {
        std::memcpy(header.e_ident, ELFMAG, SELFMAG);
        header.e_ident[EI_CLASS] = ELFCLASS64;
        header.e_ident[EI_DATA] = ELFDATA2LSB;
        header.e_ident[EI_VERSION] = EV_CURRENT;
        header.e_type = ET_EXEC;
        header.e_machine = EM_X86_64;
        header.e_version = EV_CURRENT;
        header.e_entry = kernel_address;
        header.e_phoff = sizeof(Elf64_Ehdr);
        header.e_ehsize = sizeof(Elf64_Ehdr);
        header.e_phentsize = sizeof(Elf64_Phdr);
        for (unsigned i = 0; i < 32; ++i)
            payload.push_back(static_cast<uint8_t>(0x11 * (i + 1)));
        segments.push_back(load_segment(kernel_address, payload_offset, payload.size(), 0x2000));
    }

    static Elf64_Phdr load_segment(uint64_t paddr, uint64_t offset, uint64_t filesz, uint64_t memsz)
    {
        Elf64_Phdr segment {};
        segment.p_type = PT_LOAD;
        segment.p_flags = PF_R | PF_X;
        segment.p_offset = offset;
        segment.p_vaddr = 0xffff'ffff'8000'0000 + paddr; // like a vmlinux: virtual != physical
        segment.p_paddr = paddr;
        segment.p_filesz = filesz;
        segment.p_memsz = memsz;
        segment.p_align = 0x1000;
        return segment;
    }

    std::vector<uint8_t> bytes()
    {
        header.e_phnum = static_cast<uint16_t>(segments.size());
        std::vector<uint8_t> file(payload_offset);
        std::memcpy(file.data(), &header, sizeof header);
        std::memcpy(file.data() + sizeof header, segments.data(), segments.size() * sizeof(Elf64_Phdr));
        file.insert(file.end(), payload.begin(), payload.end());
        return file;
    }
};

GuestMemory make_elf_memory()
{
    auto memory = GuestMemory::create(layout::ram_regions(elf_ram_size));
    EXPECT_TRUE(memory.has_value());
    return std::move(memory).value();
}

// Loads `image` and expects a failure whose message contains `expected`.
void expect_elf_rejected(std::vector<uint8_t> const& image, std::string const& expected)
{
    auto memory = make_elf_memory();
    auto result = load_elf_kernel(memory, image);
    ASSERT_FALSE(result.has_value()) << "expected an error containing: " << expected;
    EXPECT_NE(result.error().message.find(expected), std::string::npos) << result.error().message;
}

} // namespace

TEST(ElfLoader, ValidKernel_CopiesSegmentZeroFillsBssAndReturnsEntry)
{
    auto memory = make_elf_memory();
    ASSERT_TRUE(memory.fill(GuestAddress(kernel_address), 0xaa, 0x2000)); // stale contents
    ElfImage elf;

    auto kernel = load_elf_kernel(memory, elf.bytes());

    ASSERT_TRUE(kernel.has_value()) << kernel.error().message;
    EXPECT_EQ(kernel->format, KernelFormat::Elf);
    EXPECT_EQ(kernel->entry, GuestAddress(kernel_address));
    EXPECT_EQ(kernel->end, GuestAddress(kernel_address + 0x2000));
    EXPECT_FALSE(kernel->setup_header.has_value());
    std::vector<uint8_t> loaded(elf.payload.size());
    ASSERT_TRUE(memory.read(GuestAddress(kernel_address), loaded));
    EXPECT_EQ(loaded, elf.payload);
    std::vector<uint8_t> bss(0x2000 - elf.payload.size());
    ASSERT_TRUE(memory.read(GuestAddress(kernel_address + elf.payload.size()), bss));
    EXPECT_EQ(bss, std::vector<uint8_t>(bss.size(), 0));
}

TEST(ElfLoader, TwoSegmentsAndANote_LoadsBothAndEndIsHighest)
{
    auto memory = make_elf_memory();
    ElfImage elf;
    Elf64_Phdr note {};
    note.p_type = PT_NOTE;
    note.p_paddr = 0; // ignored: not loaded
    elf.segments.insert(elf.segments.begin(), note);
    elf.segments.push_back(ElfImage::load_segment(kernel_address + 0x10000, payload_offset + 16, 16, 0x3000));

    auto kernel = load_elf_kernel(memory, elf.bytes());

    ASSERT_TRUE(kernel.has_value()) << kernel.error().message;
    EXPECT_EQ(kernel->end, GuestAddress(kernel_address + 0x13000));
    EXPECT_EQ(*memory.read_obj<uint8_t>(GuestAddress(kernel_address + 0x10000)), elf.payload[16]);
}

TEST(ElfLoader, LoadKernel_DetectsElf)
{
    auto memory = make_elf_memory();
    ElfImage elf;
    auto kernel = load_kernel(memory, elf.bytes());
    ASSERT_TRUE(kernel.has_value()) << kernel.error().message;
    EXPECT_EQ(kernel->format, KernelFormat::Elf);
}

TEST(ElfLoader, TooShort_IsRejected)
{
    ElfImage elf;
    auto image = elf.bytes();
    image.resize(10);
    expect_elf_rejected(image, "too short");
}

TEST(ElfLoader, BadMagic_IsRejected)
{
    ElfImage elf;
    elf.header.e_ident[EI_MAG1] = 'X';
    expect_elf_rejected(elf.bytes(), "bad magic");
}

TEST(ElfLoader, Elf32_IsRejected)
{
    ElfImage elf;
    elf.header.e_ident[EI_CLASS] = ELFCLASS32;
    expect_elf_rejected(elf.bytes(), "ELFCLASS64");
}

TEST(ElfLoader, BigEndian_IsRejected)
{
    ElfImage elf;
    elf.header.e_ident[EI_DATA] = ELFDATA2MSB;
    expect_elf_rejected(elf.bytes(), "little endian");
}

TEST(ElfLoader, WrongMachine_IsRejected)
{
    ElfImage elf;
    elf.header.e_machine = EM_AARCH64;
    expect_elf_rejected(elf.bytes(), "EM_X86_64");
}

TEST(ElfLoader, NotExecutable_IsRejected)
{
    ElfImage elf;
    elf.header.e_type = ET_REL;
    expect_elf_rejected(elf.bytes(), "not an executable");
}

TEST(ElfLoader, ProgramHeaderTablePastEndOfFile_IsRejected)
{
    ElfImage elf;
    elf.header.e_phoff = payload_offset + elf.payload.size() - 8;
    expect_elf_rejected(elf.bytes(), "program header table");
}

TEST(ElfLoader, ProgramHeaderOffsetNearUint64Max_IsRejectedWithoutOverflow)
{
    ElfImage elf;
    elf.header.e_phoff = UINT64_MAX - 16;
    expect_elf_rejected(elf.bytes(), "outside the file");
}

TEST(ElfLoader, TruncatedSegment_IsRejected)
{
    ElfImage elf;
    elf.segments[0].p_filesz = 0x100; // the file holds only 32 payload bytes
    expect_elf_rejected(elf.bytes(), "truncated");
}

TEST(ElfLoader, SegmentOffsetPlusSizeOverflowing_IsRejected)
{
    ElfImage elf;
    elf.segments[0].p_offset = UINT64_MAX - 8; // offset + filesz wraps to a small number
    elf.segments[0].p_filesz = 32;
    expect_elf_rejected(elf.bytes(), "truncated");
}

TEST(ElfLoader, FileSizeLargerThanMemorySize_IsRejected)
{
    ElfImage elf;
    elf.segments[0].p_memsz = 16;
    expect_elf_rejected(elf.bytes(), "larger than p_memsz");
}

TEST(ElfLoader, HugeMemorySize_IsRejected)
{
    ElfImage elf;
    elf.segments[0].p_memsz = 1ull << 62;
    expect_elf_rejected(elf.bytes(), "huge p_memsz");
}

TEST(ElfLoader, MemorySizeWrappingAddressSpace_IsRejected)
{
    ElfImage elf;
    elf.segments[0].p_paddr = UINT64_MAX - 0x1000;
    elf.header.e_entry = UINT64_MAX - 0x1000;
    expect_elf_rejected(elf.bytes(), "outside guest RAM");
}

TEST(ElfLoader, SegmentBeyondGuestRam_IsRejected)
{
    ElfImage elf;
    elf.segments[0].p_paddr = elf_ram_size - 0x1000; // memsz 0x2000 crosses the end of RAM
    elf.header.e_entry = elf_ram_size - 0x1000;
    expect_elf_rejected(elf.bytes(), "outside guest RAM");
}

TEST(ElfLoader, SegmentBelowOneMegabyte_IsRejected)
{
    ElfImage elf;
    elf.segments[0].p_paddr = 0x7000; // would overwrite the zero page
    elf.header.e_entry = 0x7000;
    expect_elf_rejected(elf.bytes(), "below 0x100000");
}

TEST(ElfLoader, OverlappingSegments_AreRejected)
{
    ElfImage elf;
    elf.segments.push_back(ElfImage::load_segment(kernel_address + 0x1000, payload_offset, 16, 0x1000));
    expect_elf_rejected(elf.bytes(), "overlap");
}

TEST(ElfLoader, NoLoadSegment_IsRejected)
{
    ElfImage elf;
    elf.segments[0].p_type = PT_NOTE;
    expect_elf_rejected(elf.bytes(), "no PT_LOAD");
}

TEST(ElfLoader, EntryOutsideSegments_IsRejected)
{
    ElfImage elf;
    elf.header.e_entry = kernel_address + 0x100000;
    expect_elf_rejected(elf.bytes(), "entry point");
}

TEST(ElfLoader, EntryInZeroFilledTail_IsRejected)
{
    ElfImage elf;
    elf.header.e_entry = kernel_address + 0x1800; // inside memsz but past the file bytes
    expect_elf_rejected(elf.bytes(), "entry point");
}

TEST(ElfLoader, ExtendedProgramHeaderNumbering_IsRejected)
{
    ElfImage elf;
    auto image = elf.bytes();
    uint16_t extended = PN_XNUM;
    std::memcpy(image.data() + offsetof(Elf64_Ehdr, e_phnum), &extended, sizeof extended);
    expect_elf_rejected(image, "extended program header numbering");
}
