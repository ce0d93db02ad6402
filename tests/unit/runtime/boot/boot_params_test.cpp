// Zero page, e820 map and initrd placement, checked by reading guest memory back.
#include "runtime/boot/boot_params.hpp"
#include "runtime/boot/cpu_state.hpp"
#include "runtime/boot/layout.hpp"
#include "runtime/boot/mptable.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace husk;

namespace {

constexpr uint64_t mib = 1ull << 20;
constexpr uint64_t gib = 1ull << 30;

GuestMemory make_memory(uint64_t size)
{
    auto memory = GuestMemory::create(layout::ram_regions(size));
    EXPECT_TRUE(memory.has_value());
    return std::move(memory).value();
}

struct Range {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
    bool operator==(Range const&) const = default;
};

// Copies out of the packed entries so gtest can compare and print them.
std::vector<Range> ranges(std::vector<E820Entry> const& map)
{
    std::vector<Range> out;
    for (auto const& entry : map)
        out.push_back({ entry.addr, entry.size, entry.type });
    return out;
}

std::string read_cmdline(GuestMemory const& memory)
{
    std::vector<uint8_t> bytes(layout::cmdline_max_size);
    EXPECT_TRUE(memory.read(layout::cmdline_address, bytes));
    return std::string(reinterpret_cast<char const*>(bytes.data())); // up to the NUL
}

constexpr uint32_t ram = boot_protocol::e820_ram;
constexpr uint32_t reserved = boot_protocol::e820_reserved;

} // namespace

TEST(BootE820, Ram128Mib_ReservesLegacyAreaOnly)
{
    auto memory = make_memory(128 * mib);
    auto map = ranges(build_e820(memory));
    std::vector<Range> expected {
        { 0, 0x9fc00, ram },
        { 0x9fc00, 0x100000 - 0x9fc00, reserved },
        { 0x100000, 128 * mib - 0x100000, ram },
    };
    EXPECT_EQ(map, expected);
}

TEST(BootE820, Ram4Gib_KeepsTheMmioHoleFree)
{
    auto memory = make_memory(4 * gib);
    auto map = ranges(build_e820(memory));
    std::vector<Range> expected {
        { 0, 0x9fc00, ram },
        { 0x9fc00, 0x100000 - 0x9fc00, reserved },
        { 0x100000, 3 * gib - 0x100000, ram },
        { 4 * gib, 1 * gib, ram },
    };
    EXPECT_EQ(map, expected);
    for (auto const& range : map)
        EXPECT_TRUE(range.addr + range.size <= 3 * gib || range.addr >= 4 * gib) << std::hex << range.addr;
}

TEST(BootInitrd, Fits_IsPlacedPageAlignedAtTopOfLowRam)
{
    auto memory = make_memory(128 * mib);
    std::vector<uint8_t> image(10000, 0x42);

    auto placement = load_initrd(memory, image, GuestAddress(32 * mib));

    ASSERT_TRUE(placement.has_value()) << placement.error().message;
    EXPECT_EQ(placement->size, image.size());
    EXPECT_EQ(placement->address.value() % layout::page_size, 0u);
    EXPECT_LE(placement->address.value() + image.size(), 128 * mib);
    EXPECT_GT(placement->address.value() + image.size() + layout::page_size, 128 * mib); // as high as possible
    std::vector<uint8_t> copied(image.size());
    ASSERT_TRUE(memory.read(placement->address, copied));
    EXPECT_EQ(copied, image);
}

TEST(BootInitrd, InitrdAddrMax_BoundsTheTop)
{
    auto memory = make_memory(128 * mib);
    std::vector<uint8_t> image(0x3000, 1);
    auto placement = load_initrd(memory, image, GuestAddress(32 * mib), 64 * mib - 1);
    ASSERT_TRUE(placement.has_value()) << placement.error().message;
    EXPECT_EQ(placement->address, GuestAddress(64 * mib - 0x3000));
}

TEST(BootInitrd, LargeRam_StaysBelowTheMmioHole)
{
    auto memory = make_memory(5 * gib);
    std::vector<uint8_t> image(0x1000, 1);
    auto placement = load_initrd(memory, image, GuestAddress(32 * mib), UINT32_MAX);
    ASSERT_TRUE(placement.has_value()) << placement.error().message;
    EXPECT_EQ(placement->address, GuestAddress(3 * gib - 0x1000));
}

TEST(BootInitrd, DefaultLimit_Is896Mib)
{
    auto memory = make_memory(2 * gib);
    std::vector<uint8_t> image(0x1000, 1);
    auto placement = load_initrd(memory, image, GuestAddress(32 * mib));
    ASSERT_TRUE(placement.has_value()) << placement.error().message;
    EXPECT_EQ(placement->address, GuestAddress(0x3800'0000 - 0x1000));
}

TEST(BootInitrd, TooBig_IsRejected)
{
    auto memory = make_memory(64 * mib);
    std::vector<uint8_t> image(40 * mib, 1);
    auto result = load_initrd(memory, image, GuestAddress(32 * mib));
    ASSERT_FALSE(result.has_value());
    EXPECT_NE(result.error().message.find("does not fit"), std::string::npos) << result.error().message;
}

TEST(BootInitrd, LargerThanRam_IsRejected)
{
    auto memory = make_memory(16 * mib);
    std::vector<uint8_t> image(32 * mib, 1);
    EXPECT_FALSE(load_initrd(memory, image, GuestAddress(2 * mib)).has_value());
}

TEST(BootInitrd, Empty_IsRejected)
{
    auto memory = make_memory(16 * mib);
    EXPECT_FALSE(load_initrd(memory, {}, GuestAddress(2 * mib)).has_value());
}

TEST(BootInitrd, JustFitsAboveKernel_IsPlacedAtKernelEnd)
{
    auto memory = make_memory(16 * mib);
    std::vector<uint8_t> image(0x1000, 1);
    auto placement = load_initrd(memory, image, GuestAddress(16 * mib - 0x1800)); // rounds up to 16 MiB - 4 KiB
    ASSERT_TRUE(placement.has_value()) << placement.error().message;
    EXPECT_EQ(placement->address, GuestAddress(16 * mib - 0x1000));
    EXPECT_FALSE(load_initrd(memory, image, GuestAddress(16 * mib - 0x800)).has_value());
}

TEST(BootParams, BuiltHeader_FieldsReadBackFromGuestMemory)
{
    auto memory = make_memory(128 * mib);
    BootParamsConfig config;
    config.cmdline = "console=ttyS0 quiet";
    config.initrd = InitrdPlacement { GuestAddress(100 * mib), 12345 };

    ASSERT_TRUE(write_boot_params(memory, config));

    auto params = memory.read_obj<BootParams>(layout::zero_page_address);
    ASSERT_TRUE(params.has_value());
    SetupHeader header = params->hdr;
    EXPECT_EQ(header.boot_flag, 0xaa55);
    EXPECT_EQ(header.header, 0x53726448u); // "HdrS"
    EXPECT_EQ(header.version, 0x020f);
    EXPECT_EQ(header.type_of_loader, 0xff);
    EXPECT_EQ(header.loadflags, 0x81); // LOADED_HIGH | CAN_USE_HEAP
    EXPECT_EQ(header.kernel_alignment, 0x1000000u);
    EXPECT_EQ(header.cmd_line_ptr, 0x20000u);
    EXPECT_EQ(header.cmdline_size, 4095u);
    EXPECT_EQ(header.ramdisk_image, 100 * mib);
    EXPECT_EQ(header.ramdisk_size, 12345u);
    EXPECT_EQ(params->ext_ramdisk_image, 0u);
    EXPECT_EQ(params->e820_entries, 3);
    E820Entry last = params->e820_table[2];
    EXPECT_EQ(last.addr, 0x100000u);
    EXPECT_EQ(last.size, 127 * mib);
    EXPECT_EQ(last.type, ram);
    EXPECT_EQ(read_cmdline(memory), config.cmdline);
}

TEST(BootParams, NoInitrd_RamdiskFieldsAreZero)
{
    auto memory = make_memory(32 * mib);
    ASSERT_TRUE(write_boot_params(memory, { "quiet", std::nullopt, std::nullopt }));
    auto params = memory.read_obj<BootParams>(layout::zero_page_address);
    ASSERT_TRUE(params.has_value());
    uint32_t image = params->hdr.ramdisk_image;
    uint32_t size = params->hdr.ramdisk_size;
    EXPECT_EQ(image, 0u);
    EXPECT_EQ(size, 0u);
}

TEST(BootParams, InitrdAbove4Gib_UsesExtFields)
{
    auto memory = make_memory(5 * gib);
    BootParamsConfig config { "", InitrdPlacement { GuestAddress(4 * gib + 0x2000), 0x1000 }, std::nullopt };
    ASSERT_TRUE(write_boot_params(memory, config));
    auto params = memory.read_obj<BootParams>(layout::zero_page_address);
    ASSERT_TRUE(params.has_value());
    uint32_t low = params->hdr.ramdisk_image;
    EXPECT_EQ(low, 0x2000u);
    EXPECT_EQ(params->ext_ramdisk_image, 1u);
    EXPECT_EQ(params->e820_entries, 4);
}

TEST(BootParams, InitrdOutsideMemory_IsRejected)
{
    auto memory = make_memory(32 * mib);
    BootParamsConfig config { "", InitrdPlacement { GuestAddress(31 * mib), 2 * mib }, std::nullopt };
    EXPECT_FALSE(write_boot_params(memory, config).has_value());
}

TEST(BootParams, KernelSetupHeader_IsKeptAndLoaderFieldsSet)
{
    auto memory = make_memory(64 * mib);
    SetupHeader kernel_header {};
    kernel_header.header = boot_protocol::header_magic;
    kernel_header.version = 0x020c;
    kernel_header.init_size = 0x123000;
    kernel_header.cmdline_size = 255;
    BootParamsConfig config { "root=/dev/vda", std::nullopt, kernel_header };

    ASSERT_TRUE(write_boot_params(memory, config));

    auto params = memory.read_obj<BootParams>(layout::zero_page_address);
    ASSERT_TRUE(params.has_value());
    SetupHeader header = params->hdr;
    EXPECT_EQ(header.version, 0x020c);
    EXPECT_EQ(header.init_size, 0x123000u);
    EXPECT_EQ(header.cmdline_size, 255u); // the kernel's own limit, not overwritten
    EXPECT_EQ(header.type_of_loader, 0xff);
    EXPECT_EQ(header.cmd_line_ptr, 0x20000u);
}

TEST(BootParams, CmdlineLongerThanKernelLimit_IsRejected)
{
    auto memory = make_memory(64 * mib);
    SetupHeader kernel_header {};
    kernel_header.version = 0x020f;
    kernel_header.cmdline_size = 255;
    auto result = write_boot_params(memory, { std::string(256, 'a'), std::nullopt, kernel_header });
    ASSERT_FALSE(result.has_value());
    EXPECT_NE(result.error().message.find("limit is 255"), std::string::npos) << result.error().message;
}

TEST(BootParams, CmdlineTooLong_IsRejected)
{
    auto memory = make_memory(32 * mib);
    auto result = write_boot_params(memory, { std::string(layout::cmdline_max_size, 'a'), std::nullopt, std::nullopt });
    ASSERT_FALSE(result.has_value());
    EXPECT_NE(result.error().message.find("command line"), std::string::npos);
}

TEST(BootParams, CmdlineOfMaximumLength_IsAcceptedAndTerminated)
{
    auto memory = make_memory(32 * mib);
    std::string cmdline(layout::cmdline_max_size - 1, 'b');
    ASSERT_TRUE(write_boot_params(memory, { cmdline, std::nullopt, std::nullopt }));
    EXPECT_EQ(read_cmdline(memory), cmdline);
    EXPECT_EQ(*memory.read_obj<uint8_t>(layout::cmdline_address.unchecked_add(cmdline.size())), 0);
}

TEST(BootParams, CmdlineWithNul_IsRejected)
{
    auto memory = make_memory(32 * mib);
    auto result = write_boot_params(memory, { std::string("a\0b", 3), std::nullopt, std::nullopt });
    ASSERT_FALSE(result.has_value());
    EXPECT_NE(result.error().message.find("NUL"), std::string::npos);
}

TEST(BootParams, AllBootStructuresInAnyOrder_DoNotClobberEachOther)
{
    auto memory = make_memory(128 * mib);
    std::string const cmdline(layout::cmdline_max_size - 1, 'c'); // the whole buffer

    ASSERT_TRUE(write_boot_params(memory, { cmdline, std::nullopt, std::nullopt }));
    ASSERT_TRUE(write_mptable(memory, mptable::max_vcpus));
    ASSERT_TRUE(write_gdt_and_page_tables(memory));

    EXPECT_EQ(read_cmdline(memory), cmdline);
    auto params = memory.read_obj<BootParams>(layout::zero_page_address);
    ASSERT_TRUE(params.has_value());
    uint32_t magic = params->hdr.header;
    EXPECT_EQ(magic, boot_protocol::header_magic);
    EXPECT_EQ(params->e820_entries, 3);
    auto pointer = memory.read_obj<mptable::FloatingPointer>(layout::ebda_start);
    ASSERT_TRUE(pointer.has_value());
    EXPECT_EQ(std::string(pointer->signature, 4), "_MP_");
}
