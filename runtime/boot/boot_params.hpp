// The Linux x86 "zero page" (struct boot_params) and its setup header, as the boot protocol
// (Documentation/arch/x86/boot.rst, zero-page.rst) lays them out, plus the code that fills them:
// the e820 memory map, initrd placement and the command line.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/memory/guest_memory.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace husk {

// Setup header: bytes 0x1f1.. of a bzImage and of the zero page. Field offsets are relative to
// the zero page in the comments; the static_asserts below pin them.
struct [[gnu::packed]] SetupHeader {
    uint8_t setup_sects; // 0x1f1: 512-byte sectors of real-mode setup code; 0 means 4
    uint16_t root_flags; // 0x1f2
    uint32_t syssize; // 0x1f4: protected-mode code size in 16-byte paragraphs
    uint16_t ram_size; // 0x1f8: obsolete
    uint16_t vid_mode; // 0x1fa
    uint16_t root_dev; // 0x1fc
    uint16_t boot_flag; // 0x1fe: 0xaa55
    uint16_t jump; // 0x200: x86 jump; its second byte gives the header's end
    uint32_t header; // 0x202: "HdrS"
    uint16_t version; // 0x206: boot protocol version, 0x020f = 2.15
    uint32_t realmode_swtch; // 0x208
    uint16_t start_sys_seg; // 0x20c: obsolete
    uint16_t kernel_version; // 0x20e
    uint8_t type_of_loader; // 0x210: 0xff = undefined loader
    uint8_t loadflags; // 0x211
    uint16_t setup_move_size; // 0x212
    uint32_t code32_start; // 0x214
    uint32_t ramdisk_image; // 0x218: initrd address, low 32 bits
    uint32_t ramdisk_size; // 0x21c: initrd size, low 32 bits
    uint32_t bootsect_kludge; // 0x220: obsolete
    uint16_t heap_end_ptr; // 0x224
    uint8_t ext_loader_ver; // 0x226
    uint8_t ext_loader_type; // 0x227
    uint32_t cmd_line_ptr; // 0x228: command line address, low 32 bits
    uint32_t initrd_addr_max; // 0x22c: highest address the initrd may occupy
    uint32_t kernel_alignment; // 0x230
    uint8_t relocatable_kernel; // 0x234
    uint8_t min_alignment; // 0x235
    uint16_t xloadflags; // 0x236
    uint32_t cmdline_size; // 0x238: longest command line, without the NUL
    uint32_t hardware_subarch; // 0x23c
    uint64_t hardware_subarch_data; // 0x240
    uint32_t payload_offset; // 0x248
    uint32_t payload_length; // 0x24c
    uint64_t setup_data; // 0x250
    uint64_t pref_address; // 0x258
    uint32_t init_size; // 0x260: bytes the kernel needs from its load address to boot
    uint32_t handover_offset; // 0x264
    uint32_t kernel_info_offset; // 0x268
};
static_assert(sizeof(SetupHeader) == 0x26c - 0x1f1);

struct [[gnu::packed]] E820Entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
};
static_assert(sizeof(E820Entry) == 20);

namespace boot_protocol {
    inline constexpr uint64_t setup_header_offset = 0x1f1;
    inline constexpr uint16_t boot_flag_magic = 0xaa55;
    inline constexpr uint32_t header_magic = 0x53726448; // "HdrS" read as a little-endian u32
    inline constexpr uint16_t minimum_version = 0x0206; // cmdline_size exists from 2.06
    inline constexpr uint16_t built_header_version = 0x020f;
    inline constexpr uint8_t loader_type_undefined = 0xff;
    inline constexpr uint8_t loadflag_loaded_high = 0x01;
    inline constexpr uint8_t loadflag_can_use_heap = 0x80;
    inline constexpr uint16_t xloadflag_kernel_64 = 0x0001; // has the 64-bit entry at load + 0x200
    inline constexpr uint32_t default_kernel_alignment = 0x100'0000;
    inline constexpr uint64_t default_initrd_addr_max = 0x37ff'ffff; // for headers older than 2.03
    inline constexpr uint32_t e820_ram = 1;
    inline constexpr uint32_t e820_reserved = 2;
    inline constexpr size_t e820_max_entries = 128; // E820_MAX_ENTRIES_ZEROPAGE
} // namespace boot_protocol

// The zero page. Only the fields a VMM fills are named; the rest stays zero, which is what the
// kernel expects from a loader that does not know them (sentinel 0: nothing to sanitise).
struct [[gnu::packed]] BootParams {
    uint8_t screen_info_to_olpc[0xc0]; // 0x000: screen_info .. olpc_ofw_header
    uint32_t ext_ramdisk_image; // 0x0c0: initrd address, high 32 bits
    uint32_t ext_ramdisk_size; // 0x0c4
    uint32_t ext_cmd_line_ptr; // 0x0c8
    uint8_t pad_to_e820_entries[0x1e8 - 0xcc];
    uint8_t e820_entries; // 0x1e8
    uint8_t eddbuf_entries; // 0x1e9
    uint8_t edd_mbr_sig_buf_entries; // 0x1ea
    uint8_t kbd_status; // 0x1eb
    uint8_t secure_boot; // 0x1ec
    uint8_t pad5[2]; // 0x1ed
    uint8_t sentinel; // 0x1ef
    uint8_t pad6; // 0x1f0
    SetupHeader hdr; // 0x1f1
    uint8_t pad_to_e820_table[0x2d0 - 0x26c]; // up to edd_mbr_sig_buffer's end
    E820Entry e820_table[boot_protocol::e820_max_entries]; // 0x2d0
    uint8_t eddbuf_and_padding[0x1000 - 0xcd0];
};
static_assert(sizeof(BootParams) == 4096);
static_assert(offsetof(BootParams, ext_ramdisk_image) == 0x0c0);
static_assert(offsetof(BootParams, e820_entries) == 0x1e8);
static_assert(offsetof(BootParams, sentinel) == 0x1ef);
static_assert(offsetof(BootParams, hdr) == 0x1f1);
static_assert(offsetof(BootParams, hdr) + offsetof(SetupHeader, header) == 0x202);
static_assert(offsetof(BootParams, hdr) + offsetof(SetupHeader, cmd_line_ptr) == 0x228);
static_assert(offsetof(BootParams, hdr) + offsetof(SetupHeader, xloadflags) == 0x236);
static_assert(offsetof(BootParams, hdr) + offsetof(SetupHeader, init_size) == 0x260);
static_assert(offsetof(BootParams, e820_table) == 0x2d0);

// The e820 map for `memory` laid out by layout::ram_regions: usable [0, EBDA), reserved
// [EBDA, 1 MiB) (MP table, legacy BIOS area), then every RAM range above 1 MiB as usable.
std::vector<E820Entry> build_e820(GuestMemory const& memory);

struct InitrdPlacement {
    GuestAddress address;
    uint64_t size { 0 };
};

// Copies the initrd to the highest page-aligned address of low RAM it fits at: below 3 GiB,
// `initrd_addr_max` (inclusive, from the setup header) and the end of the first RAM region, and
// above `kernel_end`. Fails clearly when it does not fit. With `file` (the image's own file) its
// whole pages are mapped instead of copied (GuestMemory::write_from_file).
Result<InitrdPlacement> load_initrd(GuestMemory& memory, std::span<uint8_t const> image, GuestAddress kernel_end,
    uint64_t initrd_addr_max = boot_protocol::default_initrd_addr_max, MappableFile file = {});

struct BootParamsConfig {
    std::string cmdline;
    std::optional<InitrdPlacement> initrd;
    std::optional<SetupHeader> setup_header; // from a bzImage; built when absent (vmlinux)
};

// Writes the command line at layout::cmdline_address and the zero page at
// layout::zero_page_address.
Result<void> write_boot_params(GuestMemory& memory, BootParamsConfig const& config);

} // namespace husk
