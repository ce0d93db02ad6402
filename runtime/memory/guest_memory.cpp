// GuestMemory: region mapping and checked access.
#include "runtime/memory/guest_memory.hpp"

#include "runtime/base/hex.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace husk {

namespace {
    constexpr uint64_t page_size = 4096;
    // One x86-64 transparent huge page (a PMD): what the host and KVM can map in one entry.
    constexpr uint64_t huge_page_size = 2ull << 20;

    // `size` bytes of anonymous memory at a host address congruent to `guest_start` modulo 2 MiB:
    // over-map by 2 MiB, then unmap the slack before and after the aligned range. Unaligned, a
    // region's guest and host 2 MiB frames straddle each other and KVM maps none of them huge.
    Result<uint8_t*> map_aligned_anonymous(GuestAddress guest_start, uint64_t size)
    {
        // NORESERVE: guest RAM is committed lazily as the guest touches it, like a real VMM.
        void* raw = ::mmap(nullptr, size + huge_page_size, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (raw == MAP_FAILED)
            return fail_errno("cannot map " + std::to_string(size >> 20) + " MiB of guest memory");
        auto base = reinterpret_cast<uintptr_t>(raw);
        uint64_t want = guest_start.value() % huge_page_size;
        uint64_t lead = (want + huge_page_size - base % huge_page_size) % huge_page_size;
        if (lead > 0)
            ::munmap(raw, lead);
        ::munmap(reinterpret_cast<void*>(base + lead + size), huge_page_size - lead);
        return reinterpret_cast<uint8_t*>(base + lead);
    }
} // namespace

Result<GuestMemory> GuestMemory::create(std::vector<GuestRegionSpec> const& specs, HugePages huge_pages)
{
    if (specs.empty())
        return fail("guest memory needs at least one region");
    auto sorted = specs;
    std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.start < b.start; });
    for (size_t i = 0; i < sorted.size(); ++i) {
        auto const& spec = sorted[i];
        if (spec.size == 0 || spec.size % page_size != 0 || spec.start.value() % page_size != 0)
            return fail("guest memory region at " + hex(spec.start.value()) + " must be page aligned and non-empty");
        auto end = spec.start.checked_add(spec.size);
        if (!end)
            return fail("guest memory region at " + hex(spec.start.value()) + " overflows the address space");
        if (i + 1 < sorted.size() && *end > sorted[i + 1].start)
            return fail("guest memory regions overlap at " + hex(sorted[i + 1].start.value()));
    }

    std::vector<Region> regions;
    GuestMemory memory(std::move(regions));
    memory.m_huge_pages_asked = huge_pages;
    bool advised = true;
    for (auto const& spec : sorted) {
        auto* host = TRY(map_aligned_anonymous(spec.start, spec.size));
        memory.m_regions.push_back({ spec.start, spec.size, host });
        advised = memory.advise_huge_pages(host, spec.size) && advised;
    }
    memory.m_huge_pages = huge_pages == HugePages::On && advised ? HugePages::On : HugePages::Off;
    return memory;
}

bool GuestMemory::advise_huge_pages(uint8_t* host, uint64_t size) const
{
    // A host kernel without THP refuses both advices with EINVAL; the memory works without.
    int advice = m_huge_pages_asked == HugePages::On ? MADV_HUGEPAGE : MADV_NOHUGEPAGE;
    return ::madvise(host, size, advice) == 0;
}

Result<void> GuestMemory::keep_small_pages(GuestAddress address, uint64_t size)
{
    auto* host = TRY(translate(address, size));
    if (m_huge_pages != HugePages::On)
        return {};
    if (::madvise(host, size, MADV_NOHUGEPAGE) < 0)
        return fail_errno("guest memory: 4 KiB pages for " + std::to_string(size) + " bytes");
    return {};
}

Result<GuestMemory> GuestMemory::map_file(
    std::vector<GuestRegionSpec> const& specs, std::vector<uint64_t> const& file_offsets, int fd)
{
    if (specs.size() != file_offsets.size())
        return fail("guest memory: " + std::to_string(specs.size()) + " regions but " + std::to_string(file_offsets.size())
            + " file offsets");
    // The same checks as for anonymous memory, on a throwaway layout.
    auto layout = TRY(create(specs));
    layout.unmap_all();
    struct stat status {};
    if (::fstat(fd, &status) < 0)
        return fail_errno("guest memory file");
    std::vector<Region> regions;
    GuestMemory memory(std::move(regions));
    // A private file mapping takes no huge pages: its pages are the file's, copied one by one as
    // the guest writes them.
    memory.m_anonymous = false;
    for (size_t i = 0; i < specs.size(); ++i) {
        auto const& spec = specs[i];
        uint64_t offset = file_offsets[i];
        if (offset % page_size != 0 || offset > static_cast<uint64_t>(status.st_size)
            || spec.size > static_cast<uint64_t>(status.st_size) - offset)
            return fail("the guest memory file has " + std::to_string(status.st_size) + " bytes; region "
                + std::to_string(i) + " needs " + std::to_string(spec.size) + " from offset " + std::to_string(offset));
        void* host = ::mmap(nullptr, spec.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd,
            static_cast<off_t>(offset));
        if (host == MAP_FAILED)
            return fail_errno("cannot map " + std::to_string(spec.size >> 20) + " MiB of the guest memory file");
        memory.m_regions.push_back({ spec.start, spec.size, static_cast<uint8_t*>(host) });
    }
    std::sort(memory.m_regions.begin(), memory.m_regions.end(),
        [](Region const& a, Region const& b) { return a.start < b.start; });
    return memory;
}

Result<void> GuestMemory::save_to(int fd) const
{
    if (::ftruncate(fd, 0) < 0 || ::ftruncate(fd, static_cast<off_t>(total_size())) < 0)
        return fail_errno("cannot size the guest memory file");
    static constexpr uint8_t zero_page[page_size] = {};
    uint64_t file_offset = 0;
    for (auto const& region : m_regions) {
        // Runs of non-zero pages, one pwrite each; zero pages stay holes of the truncated file.
        uint64_t run_start = 0;
        uint64_t run_length = 0;
        auto flush = [&]() -> Result<void> {
            uint64_t done = 0;
            while (done < run_length) {
                auto written = ::pwrite(fd, region.host + run_start + done, run_length - done,
                    static_cast<off_t>(file_offset + run_start + done));
                if (written < 0 && errno == EINTR)
                    continue;
                if (written <= 0)
                    return fail_errno("cannot write the guest memory file");
                done += static_cast<uint64_t>(written);
            }
            run_length = 0;
            return {};
        };
        for (uint64_t page = 0; page < region.size; page += page_size) {
            bool zero = std::memcmp(region.host + page, zero_page, page_size) == 0;
            if (zero) {
                TRY(flush());
                continue;
            }
            if (run_length == 0)
                run_start = page;
            run_length += page_size;
        }
        TRY(flush());
        file_offset += region.size;
    }
    return {};
}

GuestMemory::GuestMemory(GuestMemory&& other) noexcept
    : m_regions(std::move(other.m_regions))
    , m_huge_pages_asked(other.m_huge_pages_asked)
    , m_huge_pages(other.m_huge_pages)
    , m_anonymous(other.m_anonymous)
{
    other.m_regions.clear();
}

GuestMemory& GuestMemory::operator=(GuestMemory&& other) noexcept
{
    if (this != &other) {
        unmap_all();
        m_regions = std::move(other.m_regions);
        m_huge_pages_asked = other.m_huge_pages_asked;
        m_huge_pages = other.m_huge_pages;
        m_anonymous = other.m_anonymous;
        other.m_regions.clear();
    }
    return *this;
}

GuestMemory::~GuestMemory() { unmap_all(); }

void GuestMemory::unmap_all()
{
    for (auto& region : m_regions)
        ::munmap(region.host, region.size);
    m_regions.clear();
}

uint64_t GuestMemory::total_size() const
{
    uint64_t total = 0;
    for (auto const& region : m_regions)
        total += region.size;
    return total;
}

std::vector<GuestRegionInfo> GuestMemory::regions() const
{
    std::vector<GuestRegionInfo> info;
    for (auto const& region : m_regions)
        info.push_back({ region.start, region.size, reinterpret_cast<uint64_t>(region.host) });
    return info;
}

Result<uint8_t*> GuestMemory::translate(GuestAddress address, uint64_t size) const
{
    if (!address.checked_add(size))
        return fail("guest range " + hex(address.value()) + "+" + hex(size) + " overflows");
    for (auto const& region : m_regions) {
        if (address < region.start)
            continue;
        uint64_t offset = address.value() - region.start.value();
        if (offset > region.size)
            continue;
        if (size > region.size - offset)
            return fail("guest range " + hex(address.value()) + "+" + hex(size)
                + " crosses the end of guest memory region at " + hex(region.start.value()));
        return region.host + offset;
    }
    return fail("guest address " + hex(address.value()) + " is not in guest memory");
}

Result<uint8_t*> GuestMemory::translate_atomic(GuestAddress address, uint64_t size) const
{
    // A guest address decides it: regions start page aligned in guest and host alike, so an aligned
    // guest address is an aligned host pointer (checked too, as the atomic_ref precondition).
    if (address.value() % size != 0)
        return fail("guest address " + hex(address.value()) + " is not " + std::to_string(size)
            + "-byte aligned for an atomic access");
    auto* host = TRY(translate(address, size));
    if (reinterpret_cast<uintptr_t>(host) % size != 0)
        return fail("guest address " + hex(address.value()) + " maps to a misaligned host address");
    return host;
}

bool GuestMemory::contains(GuestAddress address, uint64_t size) const { return translate(address, size).has_value(); }

Result<iovec> GuestMemory::io_vector(GuestAddress address, uint64_t size) const
{
    auto* host = TRY(translate(address, size));
    return iovec { host, size };
}

Result<void> GuestMemory::read(GuestAddress address, std::span<uint8_t> destination) const
{
    auto* host = TRY(translate(address, destination.size()));
    if (!destination.empty())
        std::memcpy(destination.data(), host, destination.size());
    return {};
}

Result<void> GuestMemory::write(GuestAddress address, std::span<uint8_t const> source)
{
    auto* host = TRY(translate(address, source.size()));
    if (!source.empty())
        std::memcpy(host, source.data(), source.size());
    return {};
}

Result<void> GuestMemory::write_from_file(
    GuestAddress address, std::span<uint8_t const> bytes, MappableFile file, uint64_t file_offset)
{
    // Below a few pages mapping saves nothing worth a VMA split.
    constexpr uint64_t minimum_mapped_size = 16 * page_size;
    auto* host = TRY(translate(address, bytes.size()));
    bool congruent = address.value() % page_size == file_offset % page_size;
    uint64_t head = (page_size - address.value() % page_size) % page_size;
    if (file.fd < 0 || !congruent || bytes.size() < head + minimum_mapped_size)
        return write(address, bytes);
    uint64_t middle = (bytes.size() - head) / page_size * page_size;
    struct stat status {};
    if (::fstat(file.fd, &status) < 0)
        return fail_errno("cannot map a file into guest memory: fstat");
    if (file_offset + head + middle > static_cast<uint64_t>(status.st_size))
        return fail("cannot map a file into guest memory: its " + std::to_string(status.st_size)
            + " bytes end before offset " + hex(file_offset + head + middle));
    std::memcpy(host, bytes.data(), head);
    // MAP_FIXED over our own anonymous region: KVM's memory slot names host addresses, not the
    // mapping, and the guest has not run yet, so nothing stale can be cached for this range.
    void* mapped = ::mmap(host + head, middle, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE,
        file.fd, static_cast<off_t>(file_offset + head));
    if (mapped == MAP_FAILED)
        return fail_errno("cannot map a file into guest memory at " + hex(address.value() + head));
    std::memcpy(host + head + middle, bytes.data() + head + middle, bytes.size() - head - middle);
    return {};
}

Result<void> GuestMemory::zero(GuestAddress address, uint64_t size)
{
    auto* host = TRY(translate(address, size));
    // Regions start on page boundaries in both address spaces, so guest and host offsets agree.
    uint64_t head = std::min(size, (page_size - address.value() % page_size) % page_size);
    uint64_t middle = (size - head) / page_size * page_size;
    if (head > 0)
        std::memset(host, 0, head);
    if (middle > 0) {
        // Over our own private mapping; KVM's memory slot names host addresses, and its MMU
        // notifier drops whatever it had of the old pages.
        void* mapped = ::mmap(host + head, middle, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
        if (mapped == MAP_FAILED)
            return fail_errno("cannot zero guest memory at " + hex(address.value() + head));
        // A new mapping has no advice: give it the region's again, so the kernel merges it back
        // into the region's mapping and its huge pages stay possible.
        if (m_anonymous)
            advise_huge_pages(host + head, middle);
    }
    if (size > head + middle)
        std::memset(host + head + middle, 0, size - head - middle);
    return {};
}

Result<void> GuestMemory::fill(GuestAddress address, uint8_t value, uint64_t size)
{
    auto* host = TRY(translate(address, size));
    if (size > 0)
        std::memset(host, value, size);
    return {};
}

} // namespace husk
