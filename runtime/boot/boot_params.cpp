// Zero page, e820 map, command line and initrd placement for the Linux boot protocol.
#include "runtime/boot/boot_params.hpp"

#include "runtime/base/hex.hpp"
#include "runtime/boot/layout.hpp"

#include <algorithm>
#include <cstring>

namespace husk {

namespace {

    void add_range(std::vector<E820Entry>& map, uint64_t start, uint64_t end, uint32_t type)
    {
        if (end > start)
            map.push_back({ start, end - start, type });
    }

    uint64_t align_down(uint64_t value, uint64_t alignment) { return value & ~(alignment - 1); }
    uint64_t align_up(uint64_t value, uint64_t alignment) { return align_down(value + alignment - 1, alignment); }

    SetupHeader built_setup_header()
    {
        SetupHeader header {};
        header.boot_flag = boot_protocol::boot_flag_magic;
        header.header = boot_protocol::header_magic;
        header.version = boot_protocol::built_header_version;
        header.loadflags = boot_protocol::loadflag_loaded_high | boot_protocol::loadflag_can_use_heap;
        header.kernel_alignment = boot_protocol::default_kernel_alignment;
        header.cmdline_size = layout::cmdline_max_size - 1;
        header.initrd_addr_max = static_cast<uint32_t>(boot_protocol::default_initrd_addr_max);
        return header;
    }

    Result<void> write_cmdline(GuestMemory& memory, std::string const& cmdline, uint64_t limit)
    {
        if (cmdline.find('\0') != std::string::npos)
            return fail("kernel command line contains a NUL byte");
        if (cmdline.size() > limit)
            return fail("kernel command line is " + std::to_string(cmdline.size()) + " bytes, the limit is "
                + std::to_string(limit));
        // c_str() includes the terminating NUL the kernel relies on.
        auto bytes = std::span(reinterpret_cast<uint8_t const*>(cmdline.c_str()), cmdline.size() + 1);
        TRY_CONTEXT(memory.write(layout::cmdline_address, bytes), "cannot write the kernel command line");
        return {};
    }

} // namespace

std::vector<E820Entry> build_e820(GuestMemory const& memory)
{
    std::vector<E820Entry> map;
    uint64_t const ebda = layout::ebda_start.value();
    uint64_t const high = layout::high_memory_start.value();
    for (auto const& region : memory.regions()) {
        uint64_t start = region.start.value();
        uint64_t end = start + region.size; // GuestMemory guarantees no overflow
        // The part below the EBDA is ordinary RAM; [EBDA, 1 MiB) is the legacy BIOS area, kept
        // reserved so the kernel never allocates over the MP table.
        add_range(map, start, std::min(end, ebda), boot_protocol::e820_ram);
        if (start < high && end > ebda)
            add_range(map, std::max(start, ebda), high, boot_protocol::e820_reserved);
        add_range(map, std::max(start, high), end, boot_protocol::e820_ram);
    }
    return map;
}

Result<InitrdPlacement> load_initrd(GuestMemory& memory, std::span<uint8_t const> image, GuestAddress kernel_end,
    uint64_t initrd_addr_max, MappableFile file)
{
    if (image.empty())
        return fail("initrd image is empty");
    auto regions = memory.regions();
    if (regions.empty() || regions.front().start != GuestAddress(0))
        return fail("guest memory has no RAM region at address 0 to hold the initrd");
    if (kernel_end.value() > UINT64_MAX - layout::page_size)
        return fail("kernel end " + hex(kernel_end.value()) + " is not a valid guest address");
    // initrd_addr_max names the last byte the initrd may occupy, hence + 1.
    uint64_t address_limit = initrd_addr_max == UINT64_MAX ? UINT64_MAX : initrd_addr_max + 1;
    uint64_t limit = std::min({ layout::mmio_hole_start.value(), address_limit, regions.front().size });
    // Never below 1 MiB either: the boot structures (zero page, page tables, MP table) live there.
    uint64_t lowest = std::max(align_up(kernel_end.value(), layout::page_size), layout::high_memory_start.value());
    if (image.size() > limit || align_down(limit - image.size(), layout::page_size) < lowest)
        return fail("initrd of " + std::to_string(image.size()) + " bytes does not fit in low guest memory between "
            + hex(lowest) + " (kernel end) and " + hex(limit));
    GuestAddress address(align_down(limit - image.size(), layout::page_size));
    TRY_CONTEXT(memory.write_from_file(address, image, file, 0), "cannot copy the initrd into guest memory");
    return InitrdPlacement { address, image.size() };
}

Result<void> write_boot_params(GuestMemory& memory, BootParamsConfig const& config)
{
    BootParams params {};
    params.hdr = config.setup_header.value_or(built_setup_header());
    auto& header = params.hdr;

    // A kernel states its own command line limit from protocol 2.06 on; ours is the buffer size.
    uint64_t limit = layout::cmdline_max_size - 1;
    if (config.setup_header && header.version >= boot_protocol::minimum_version && header.cmdline_size > 0)
        limit = std::min<uint64_t>(limit, header.cmdline_size);
    TRY(write_cmdline(memory, config.cmdline, limit));

    header.type_of_loader = boot_protocol::loader_type_undefined;
    header.cmd_line_ptr = static_cast<uint32_t>(layout::cmdline_address.value());
    params.ext_cmd_line_ptr = static_cast<uint32_t>(layout::cmdline_address.value() >> 32);
    if (!config.setup_header)
        header.cmdline_size = static_cast<uint32_t>(limit);

    if (config.initrd) {
        uint64_t address = config.initrd->address.value();
        uint64_t size = config.initrd->size;
        if (!memory.contains(config.initrd->address, size))
            return fail("initrd at " + hex(address) + " of " + std::to_string(size) + " bytes is outside guest memory");
        header.ramdisk_image = static_cast<uint32_t>(address);
        header.ramdisk_size = static_cast<uint32_t>(size);
        params.ext_ramdisk_image = static_cast<uint32_t>(address >> 32);
        params.ext_ramdisk_size = static_cast<uint32_t>(size >> 32);
    }

    auto e820 = build_e820(memory);
    if (e820.size() > boot_protocol::e820_max_entries)
        return fail("e820 map has " + std::to_string(e820.size()) + " entries, the zero page holds "
            + std::to_string(boot_protocol::e820_max_entries));
    std::copy(e820.begin(), e820.end(), params.e820_table);
    params.e820_entries = static_cast<uint8_t>(e820.size());

    TRY_CONTEXT(memory.write_obj(layout::zero_page_address, params), "cannot write the zero page");
    return {};
}

} // namespace husk
