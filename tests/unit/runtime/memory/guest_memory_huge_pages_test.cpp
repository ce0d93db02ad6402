// GuestMemory and transparent huge pages: every region's host address is congruent to its guest
// address modulo 2 MiB (KVM maps huge only where both line up), the advice the host shows for the
// mapping in /proc/self/smaps (VmFlags `hg` for MADV_HUGEPAGE, `nh` for MADV_NOHUGEPAGE), and
// zero() keeping it on the pages it replaces, so the region stays one mapping. A host kernel
// without THP refuses the advice: then huge_pages() must say Off, which is checked instead.
#include "runtime/base/fd.hpp"
#include "runtime/memory/guest_memory.hpp"

#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace husk;

namespace {
constexpr uint64_t huge_page = 2ull << 20;

bool host_has_thp() { return ::access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0; }

struct Mapping {
    uint64_t low { 0 }, high { 0 };
    std::vector<std::string> flags;
    bool has_flag(std::string const& flag) const
    {
        for (auto const& f : flags)
            if (f == flag)
                return true;
        return false;
    }
};

// This process's mappings that overlap [low, high), from /proc/self/smaps.
std::vector<Mapping> mappings_over(uint64_t low, uint64_t high)
{
    std::ifstream smaps("/proc/self/smaps");
    std::vector<Mapping> all;
    std::string line;
    while (std::getline(smaps, line)) {
        unsigned long long start = 0, end = 0;
        if (std::sscanf(line.c_str(), "%llx-%llx ", &start, &end) == 2) {
            all.push_back({ start, end, {} });
        } else if (line.rfind("VmFlags:", 0) == 0 && !all.empty()) {
            std::istringstream words(line.substr(8));
            std::string word;
            while (words >> word)
                all.back().flags.push_back(word);
        }
    }
    std::vector<Mapping> overlapping;
    for (auto const& mapping : all)
        if (mapping.low < high && mapping.high > low)
            overlapping.push_back(mapping);
    return overlapping;
}

std::vector<Mapping> mappings_of(GuestRegionInfo const& region)
{
    return mappings_over(region.host_address, region.host_address + region.size);
}
} // namespace

TEST(GuestMemoryHugePages, HostAddresses_AreCongruentToGuestAddresses_Modulo2MiB)
{
    for (auto mode : { HugePages::Off, HugePages::On }) {
        // A region at 0, one starting 1 MiB + 4 KiB into a 2 MiB frame, one of an odd size.
        auto memory = GuestMemory::create({ { GuestAddress(0), 6 * huge_page },
                                              { GuestAddress(0x10101000), 3 * huge_page },
                                              { GuestAddress(0x40000000), 0x123000 } },
            mode);
        ASSERT_TRUE(memory) << memory.error().message;
        for (auto const& region : memory->regions()) {
            EXPECT_EQ(region.host_address % huge_page, region.start.value() % huge_page)
                << "region at " << region.start.value();
            // One mapping holds the whole region (the kernel may have merged a neighbour into it).
            auto mappings = mappings_of(region);
            ASSERT_EQ(mappings.size(), 1u);
            EXPECT_LE(mappings[0].low, region.host_address);
            EXPECT_GE(mappings[0].high, region.host_address + region.size);
        }
        // Each region works as memory to its last byte.
        ASSERT_TRUE(memory->write_obj(GuestAddress(0x10101000 + 3 * huge_page - 8), uint64_t { 42 }));
        EXPECT_EQ(*memory->read_obj<uint64_t>(GuestAddress(0x10101000 + 3 * huge_page - 8)), 42u);
    }
}

TEST(GuestMemoryHugePages, On_IsAdvised_WhereTheHostHasThp)
{
    auto memory = GuestMemory::create({ { GuestAddress(0), 8 * huge_page } }, HugePages::On);
    ASSERT_TRUE(memory) << memory.error().message;
    auto mappings = mappings_of(memory->regions()[0]);
    ASSERT_EQ(mappings.size(), 1u);
    if (host_has_thp()) {
        EXPECT_EQ(memory->huge_pages(), HugePages::On);
        EXPECT_TRUE(mappings[0].has_flag("hg"));
        EXPECT_FALSE(mappings[0].has_flag("nh"));
    } else {
        EXPECT_EQ(memory->huge_pages(), HugePages::Off);
        EXPECT_FALSE(mappings[0].has_flag("hg"));
    }
}

TEST(GuestMemoryHugePages, Off_AdvisesAgainstThem_AndSaysOff)
{
    auto memory = GuestMemory::create({ { GuestAddress(0), 8 * huge_page } }, HugePages::Off);
    ASSERT_TRUE(memory) << memory.error().message;
    EXPECT_EQ(memory->huge_pages(), HugePages::Off);
    auto mappings = mappings_of(memory->regions()[0]);
    ASSERT_EQ(mappings.size(), 1u);
    EXPECT_FALSE(mappings[0].has_flag("hg"));
    if (host_has_thp()) {
        EXPECT_TRUE(mappings[0].has_flag("nh"));
    }
}

TEST(GuestMemoryHugePages, Zero_KeepsTheAdvice_AndTheRegionOneMapping)
{
    for (auto mode : { HugePages::Off, HugePages::On }) {
        auto memory = GuestMemory::create({ { GuestAddress(0), 8 * huge_page } }, mode);
        ASSERT_TRUE(memory) << memory.error().message;
        ASSERT_TRUE(memory->fill(GuestAddress(0), 0xab, 8 * huge_page));
        // Whole pages in the middle are replaced by a fresh mapping.
        ASSERT_TRUE(memory->zero(GuestAddress(0x100800), 0x300000));

        EXPECT_EQ(*memory->read_obj<uint8_t>(GuestAddress(0x1007ff)), 0xab);
        EXPECT_EQ(*memory->read_obj<uint8_t>(GuestAddress(0x100800)), 0);
        EXPECT_EQ(*memory->read_obj<uint8_t>(GuestAddress(0x3fffff)), 0);
        EXPECT_EQ(*memory->read_obj<uint8_t>(GuestAddress(0x400800)), 0xab);
        auto mappings = mappings_of(memory->regions()[0]);
        if (!host_has_thp())
            continue; // no advice to keep; the contents were checked above
        // The new pages took the region's advice again, so the kernel merged them back in.
        ASSERT_EQ(mappings.size(), 1u) << "zero() left the region split";
        EXPECT_TRUE(mappings[0].has_flag(mode == HugePages::On ? "hg" : "nh"));
    }
}

TEST(GuestMemoryHugePages, SnapshotFileMemory_HasNone)
{
    char name[] = "/tmp/husk-guest-memory-huge-XXXXXX";
    Fd file(::mkstemp(name));
    ASSERT_TRUE(file.is_valid());
    ::unlink(name);
    ASSERT_EQ(::ftruncate(file.get(), 4 * huge_page), 0);
    auto memory = GuestMemory::map_file({ { GuestAddress(0), 4 * huge_page } }, { 0 }, file.get());
    ASSERT_TRUE(memory) << memory.error().message;
    EXPECT_EQ(memory->huge_pages(), HugePages::Off);
    auto mappings = mappings_of(memory->regions()[0]);
    ASSERT_EQ(mappings.size(), 1u);
    EXPECT_FALSE(mappings[0].has_flag("hg"));
}

TEST(GuestMemoryHugePages, KeepSmallPages_AdvisesOnlyThatFrame)
{
    auto memory = GuestMemory::create({ { GuestAddress(0), 8 * huge_page } }, HugePages::On);
    ASSERT_TRUE(memory) << memory.error().message;
    ASSERT_TRUE(memory->keep_small_pages(GuestAddress(0), huge_page));
    auto region = memory->regions()[0];
    auto first = mappings_over(region.host_address, region.host_address + huge_page);
    auto rest = mappings_over(region.host_address + huge_page, region.host_address + region.size);
    ASSERT_EQ(first.size(), 1u);
    ASSERT_EQ(rest.size(), 1u);
    if (host_has_thp()) {
        EXPECT_TRUE(first[0].has_flag("nh"));
        EXPECT_TRUE(rest[0].has_flag("hg"));
    }
    // Outside guest RAM it is refused, naming the range.
    auto outside = memory->keep_small_pages(GuestAddress(8 * huge_page), huge_page);
    EXPECT_FALSE(outside);
    // With huge pages Off the range is checked and nothing else is done.
    auto off = GuestMemory::create({ { GuestAddress(0), 8 * huge_page } }, HugePages::Off);
    ASSERT_TRUE(off);
    EXPECT_TRUE(off->keep_small_pages(GuestAddress(0), huge_page));
    EXPECT_FALSE(off->keep_small_pages(GuestAddress(8 * huge_page), huge_page));
}
