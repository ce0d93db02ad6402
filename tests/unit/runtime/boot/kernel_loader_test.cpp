// bzImage loader and format detection: header checks (magic, protocol version, 64-bit entry,
// init_size), where the protected-mode kernel lands and what setup header is kept.
#include "runtime/base/fd.hpp"
#include "runtime/boot/kernel_loader.hpp"
#include "runtime/boot/layout.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace husk;

namespace {

constexpr uint64_t kernel_ram_size = 64ull << 20;
constexpr uint8_t setup_sects = 2;
constexpr uint64_t setup_bytes = (setup_sects + 1) * 512;
constexpr uint8_t short_jump_opcode = 0xeb;

struct BzImage {
    SetupHeader header {};
    uint8_t header_end_displacement = 0x26c - 0x202; // a full 2.15 header
    std::vector<uint8_t> kernel;

    BzImage()
    {
        header.setup_sects = setup_sects;
        header.boot_flag = boot_protocol::boot_flag_magic;
        header.header = boot_protocol::header_magic;
        header.version = 0x020f;
        header.loadflags = boot_protocol::loadflag_loaded_high;
        header.xloadflags = boot_protocol::xloadflag_kernel_64;
        header.cmdline_size = 2047;
        header.init_size = 0x10000;
        header.kernel_alignment = 0x200000;
        for (unsigned i = 0; i < 0x1000; ++i)
            kernel.push_back(static_cast<uint8_t>(i * 7));
    }

    std::vector<uint8_t> bytes()
    {
        std::vector<uint8_t> file(setup_bytes + kernel.size());
        std::memcpy(file.data() + boot_protocol::setup_header_offset, &header, sizeof header);
        file[0x200] = short_jump_opcode;
        file[0x201] = header_end_displacement;
        std::memcpy(file.data() + setup_bytes, kernel.data(), kernel.size());
        return file;
    }
};

GuestMemory make_kernel_memory()
{
    auto memory = GuestMemory::create(layout::ram_regions(kernel_ram_size));
    EXPECT_TRUE(memory.has_value());
    return std::move(memory).value();
}

void expect_kernel_rejected(std::vector<uint8_t> const& image, std::string const& expected)
{
    auto memory = make_kernel_memory();
    auto result = load_bzimage(memory, image);
    ASSERT_FALSE(result.has_value()) << "expected an error containing: " << expected;
    EXPECT_NE(result.error().message.find(expected), std::string::npos) << result.error().message;
}

} // namespace

TEST(BzImageLoader, ValidImage_LoadsProtectedModeKernelAtOneMegabyte)
{
    auto memory = make_kernel_memory();
    BzImage bz;

    auto kernel = load_bzimage(memory, bz.bytes());

    ASSERT_TRUE(kernel.has_value()) << kernel.error().message;
    EXPECT_EQ(kernel->format, KernelFormat::BzImage);
    EXPECT_EQ(kernel->entry, GuestAddress(0x100200)); // 64-bit entry: load address + 0x200
    EXPECT_EQ(kernel->end, GuestAddress(0x100000 + 0x10000)); // init_size exceeds the image
    std::vector<uint8_t> loaded(bz.kernel.size());
    ASSERT_TRUE(memory.read(layout::high_memory_start, loaded));
    EXPECT_EQ(loaded, bz.kernel);
    ASSERT_TRUE(kernel->setup_header.has_value());
    uint32_t cmdline_size = kernel->setup_header->cmdline_size;
    EXPECT_EQ(cmdline_size, 2047u);
}

TEST(BzImageLoader, InitSizeSmallerThanImage_EndIsImageEnd)
{
    auto memory = make_kernel_memory();
    BzImage bz;
    bz.header.init_size = 0x100;
    auto kernel = load_bzimage(memory, bz.bytes());
    ASSERT_TRUE(kernel.has_value()) << kernel.error().message;
    EXPECT_EQ(kernel->end, GuestAddress(0x100000 + bz.kernel.size()));
}

TEST(BzImageLoader, PreferredAddress_EndIsPrefAddressPlusInitSize)
{
    auto memory = make_kernel_memory();
    BzImage bz;
    bz.header.pref_address = 0x1000000; // non-relocatable: decompresses at LOAD_PHYSICAL_ADDR
    auto kernel = load_bzimage(memory, bz.bytes());
    ASSERT_TRUE(kernel.has_value()) << kernel.error().message;
    EXPECT_EQ(kernel->end, GuestAddress(0x1000000 + 0x10000));
    EXPECT_EQ(kernel->entry, GuestAddress(0x100200));
}

TEST(BzImageLoader, Relocatable_EndIsAlignedLoadAddressPlusInitSize)
{
    auto memory = make_kernel_memory();
    BzImage bz;
    bz.header.relocatable_kernel = 1;
    bz.header.kernel_alignment = 0x400000; // 1 MiB rounds up to 4 MiB, above pref_address 2 MiB
    bz.header.pref_address = 0x200000;
    auto kernel = load_bzimage(memory, bz.bytes());
    ASSERT_TRUE(kernel.has_value()) << kernel.error().message;
    EXPECT_EQ(kernel->end, GuestAddress(0x400000 + 0x10000));
}

TEST(BzImageLoader, RelocatableWithBadAlignment_IsRejected)
{
    BzImage bz;
    bz.header.relocatable_kernel = 1;
    bz.header.kernel_alignment = 0x300000;
    expect_kernel_rejected(bz.bytes(), "not a power of two");
}

TEST(BzImageLoader, HostilePreferredAddress_IsRejected)
{
    BzImage bz;
    bz.header.pref_address = UINT64_MAX - 0x100;
    expect_kernel_rejected(bz.bytes(), "init_size");
}

TEST(BzImageLoader, SetupSectsZero_MeansFour)
{
    auto memory = make_kernel_memory();
    BzImage bz;
    bz.header.setup_sects = 0;
    auto image = bz.bytes();
    // Kernel then starts at 5 * 512; put a marker there.
    image.insert(image.begin() + setup_bytes, 2 * 512, 0);
    image[5 * 512] = 0x5a;
    auto kernel = load_bzimage(memory, image);
    ASSERT_TRUE(kernel.has_value()) << kernel.error().message;
    EXPECT_EQ(*memory.read_obj<uint8_t>(layout::high_memory_start), 0x5a);
}

TEST(BzImageLoader, ShorterHeader_FieldsPastItsEndAreZeroed)
{
    auto memory = make_kernel_memory();
    BzImage bz;
    bz.header.kernel_info_offset = 0xdeadbeef; // setup code bytes in a 2.10 kernel
    bz.header_end_displacement = 0x268 - 0x202;
    auto kernel = load_bzimage(memory, bz.bytes());
    ASSERT_TRUE(kernel.has_value()) << kernel.error().message;
    uint32_t kernel_info_offset = kernel->setup_header->kernel_info_offset;
    uint32_t init_size = kernel->setup_header->init_size;
    EXPECT_EQ(kernel_info_offset, 0u);
    EXPECT_EQ(init_size, 0x10000u);
}

TEST(BzImageLoader, BadMagic_IsRejected)
{
    BzImage bz;
    bz.header.header = 0x12345678;
    expect_kernel_rejected(bz.bytes(), "HdrS");
}

TEST(BzImageLoader, OldProtocolVersion_IsRejected)
{
    BzImage bz;
    bz.header.version = 0x0205;
    expect_kernel_rejected(bz.bytes(), "older than the required 2.06");
}

TEST(BzImageLoader, NoKernel64Flag_IsRejected)
{
    BzImage bz;
    bz.header.xloadflags = 0;
    expect_kernel_rejected(bz.bytes(), "XLF_KERNEL_64");
}

TEST(BzImageLoader, BadBootFlag_IsRejected)
{
    BzImage bz;
    bz.header.boot_flag = 0;
    expect_kernel_rejected(bz.bytes(), "boot flag");
}

TEST(BzImageLoader, NotLoadedHigh_IsRejected)
{
    BzImage bz;
    bz.header.loadflags = 0;
    expect_kernel_rejected(bz.bytes(), "LOADED_HIGH");
}

TEST(BzImageLoader, HeaderEndingBeforeXloadflags_IsRejected)
{
    BzImage bz;
    bz.header_end_displacement = 0x10;
    expect_kernel_rejected(bz.bytes(), "before its xloadflags");
}

TEST(BzImageLoader, InitSizeBeyondRam_IsRejected)
{
    BzImage bz;
    bz.header.init_size = static_cast<uint32_t>(kernel_ram_size);
    expect_kernel_rejected(bz.bytes(), "init_size");
}

TEST(BzImageLoader, NothingAfterSetupCode_IsRejected)
{
    BzImage bz;
    bz.kernel.clear();
    expect_kernel_rejected(bz.bytes(), "no protected-mode kernel");
}

TEST(BzImageLoader, TooShortForHeader_IsRejected)
{
    expect_kernel_rejected(std::vector<uint8_t>(0x200, 0), "too short");
}

TEST(KernelLoader, BzImageMagic_IsDetected)
{
    auto memory = make_kernel_memory();
    BzImage bz;
    auto kernel = load_kernel(memory, bz.bytes());
    ASSERT_TRUE(kernel.has_value()) << kernel.error().message;
    EXPECT_EQ(kernel->format, KernelFormat::BzImage);
}

TEST(KernelLoader, UnknownFormat_IsRejected)
{
    auto memory = make_kernel_memory();
    auto result = load_kernel(memory, std::vector<uint8_t>(0x1000, 0x90));
    ASSERT_FALSE(result.has_value());
    EXPECT_NE(result.error().message.find("neither an ELF vmlinux nor a bzImage"), std::string::npos);
}

TEST(KernelLoader, EmptyImage_IsRejected)
{
    auto memory = make_kernel_memory();
    EXPECT_FALSE(load_kernel(memory, {}).has_value());
}

// A real kernel built by packaging/kernel, when the environment names one: HUSK_TEST_VMLINUX
// (ELF vmlinux) or HUSK_TEST_BZIMAGE. Skipped otherwise, with the reason.
namespace {

constexpr uint64_t real_kernel_ram_size = 512ull << 20;
constexpr size_t max_kernel_size = 512u << 20;

std::vector<uint8_t> read_kernel(char const* path)
{
    auto text = read_file(path, max_kernel_size);
    EXPECT_TRUE(text.has_value()) << text.error().message;
    if (!text)
        return {};
    return std::vector<uint8_t>(text->begin(), text->end());
}

} // namespace

TEST(RealKernel, Vmlinux_LoadsWithEntryInsideTheImage)
{
    char const* path = std::getenv("HUSK_TEST_VMLINUX");
    if (!path || !*path)
        GTEST_SKIP() << "set HUSK_TEST_VMLINUX to a vmlinux built by packaging/kernel to run this test";
    auto image = read_kernel(path);
    ASSERT_FALSE(image.empty());
    auto memory = GuestMemory::create(layout::ram_regions(real_kernel_ram_size));
    ASSERT_TRUE(memory.has_value());

    auto kernel = load_kernel(*memory, image);

    ASSERT_TRUE(kernel.has_value()) << kernel.error().message;
    EXPECT_EQ(kernel->format, KernelFormat::Elf);
    // e_entry of a vmlinux is the physical address of startup_64, at or above 1 MiB and inside
    // what was loaded.
    EXPECT_GE(kernel->entry, layout::high_memory_start);
    EXPECT_LT(kernel->entry, kernel->end);
    auto initrd = load_initrd(*memory, std::vector<uint8_t>(1 << 20, 0x5a), kernel->end);
    ASSERT_TRUE(initrd.has_value()) << initrd.error().message;
    EXPECT_GE(initrd->address, kernel->end);
}

// The mapped load (the file's pages mapped into guest RAM) leaves guest memory byte for byte as
// the copying load does.
TEST(RealKernel, VmlinuxMappedFromItsFile_EqualsTheCopiedLoad)
{
    char const* path = std::getenv("HUSK_TEST_VMLINUX");
    if (!path || !*path)
        GTEST_SKIP() << "set HUSK_TEST_VMLINUX to a vmlinux built by packaging/kernel to run this test";
    auto image = read_kernel(path);
    ASSERT_FALSE(image.empty());
    Fd file(::open(path, O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(file.is_valid());
    auto copied = GuestMemory::create(layout::ram_regions(real_kernel_ram_size));
    auto mapped = GuestMemory::create(layout::ram_regions(real_kernel_ram_size));
    ASSERT_TRUE(copied && mapped);

    auto copied_kernel = load_kernel(*copied, image);
    auto mapped_kernel = load_kernel(*mapped, image, MappableFile { file.get() });

    ASSERT_TRUE(copied_kernel) << copied_kernel.error().message;
    ASSERT_TRUE(mapped_kernel) << mapped_kernel.error().message;
    EXPECT_EQ(mapped_kernel->entry, copied_kernel->entry);
    ASSERT_EQ(mapped_kernel->end, copied_kernel->end);
    uint64_t size = copied_kernel->end.value() - layout::high_memory_start.value();
    std::vector<uint8_t> expected(size), actual(size);
    ASSERT_TRUE(copied->read(layout::high_memory_start, expected));
    ASSERT_TRUE(mapped->read(layout::high_memory_start, actual));
    EXPECT_TRUE(expected == actual);
}

TEST(RealKernel, BzImage_LoadsWith64BitEntry)
{
    char const* path = std::getenv("HUSK_TEST_BZIMAGE");
    if (!path || !*path)
        GTEST_SKIP() << "set HUSK_TEST_BZIMAGE to a bzImage built by packaging/kernel to run this test";
    auto image = read_kernel(path);
    ASSERT_FALSE(image.empty());
    auto memory = GuestMemory::create(layout::ram_regions(real_kernel_ram_size));
    ASSERT_TRUE(memory.has_value());

    auto kernel = load_kernel(*memory, image);

    ASSERT_TRUE(kernel.has_value()) << kernel.error().message;
    EXPECT_EQ(kernel->format, KernelFormat::BzImage);
    EXPECT_EQ(kernel->entry, GuestAddress(0x100200));
    ASSERT_TRUE(kernel->setup_header.has_value());
    uint16_t version = kernel->setup_header->version;
    EXPECT_GE(version, 0x0206);
    uint32_t init_size = kernel->setup_header->init_size;
    uint64_t pref_address = kernel->setup_header->pref_address;
    EXPECT_GE(kernel->end, GuestAddress(std::max<uint64_t>(0x100000, pref_address) + init_size));
    auto initrd
        = load_initrd(*memory, std::vector<uint8_t>(1 << 20, 0x5a), kernel->end, kernel->setup_header->initrd_addr_max);
    ASSERT_TRUE(initrd.has_value()) << initrd.error().message;
    EXPECT_GE(initrd->address, kernel->end);
    ASSERT_TRUE(write_boot_params(*memory, { "console=ttyS0", initrd.value(), kernel->setup_header }));
}
