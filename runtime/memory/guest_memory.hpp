// GuestMemory: the guest's RAM as a set of non-overlapping regions of host anonymous memory.
// Every guest access goes through read/write/read_obj/write_obj (plain copies) or load/store
// (atomic words shared with the running guest), which check start, length, overflow and region
// crossing (and, for atomics, alignment) and return an error instead of touching memory out of
// bounds.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/memory/guest_address.hpp"
#include "runtime/memory/huge_pages.hpp"

#include <atomic>
#include <cstdint>
#include <span>
#include <sys/uio.h>
#include <type_traits>
#include <vector>

namespace husk {

struct GuestRegionSpec {
    GuestAddress start;
    uint64_t size { 0 };
};

// What the hypervisor needs to map one region (KVM_SET_USER_MEMORY_REGION). The host address is
// for the VM-setup code only; device code never sees it.
struct GuestRegionInfo {
    GuestAddress start;
    uint64_t size { 0 };
    uint64_t host_address { 0 };
};

// A host file (kernel, initrd) whose pages GuestMemory may map into guest RAM copy-on-write
// instead of copying them; fd -1: always copy.
struct MappableFile {
    int fd { -1 };
};

class GuestMemory {
public:
    // Anonymous guest RAM. Each region's host address is congruent to its guest address modulo
    // 2 MiB (KVM maps a huge page only where both line up), and `huge_pages` is advised on it
    // (huge_pages.hpp). A host without THP refuses the advice; the memory works the same, in
    // 4 KiB pages, and huge_pages() says Off.
    static Result<GuestMemory> create(std::vector<GuestRegionSpec> const& regions, HugePages huge_pages = HugePages::Off);
    // Guest RAM backed by a snapshot's memory file `fd`: region i is mapped MAP_PRIVATE from file
    // offset `file_offsets[i]`, so pages are read in when the guest first touches them, a guest
    // write copies the page, and any number of VMs can map one file without seeing each other's
    // writes. The file must hold every region (checked); it is never read whole.
    static Result<GuestMemory> map_file(
        std::vector<GuestRegionSpec> const& regions, std::vector<uint64_t> const& file_offsets, int fd);

    // Writes every region, in address order, to `fd` from offset 0, after truncating it to
    // total_size(): the layout map_file() reads. Pages of zeros are skipped and stay holes, so a
    // mostly idle guest makes a small file. The guest must not run meanwhile.
    Result<void> save_to(int fd) const;
    GuestMemory(GuestMemory&&) noexcept;
    GuestMemory& operator=(GuestMemory&&) noexcept;
    GuestMemory(GuestMemory const&) = delete;
    GuestMemory& operator=(GuestMemory const&) = delete;
    ~GuestMemory();

    // True when [address, address + size) lies inside one region. Zero length is valid anywhere
    // inside or at the end of a region.
    bool contains(GuestAddress address, uint64_t size) const;
    uint64_t total_size() const;
    std::vector<GuestRegionInfo> regions() const;
    // On when the host accepted MADV_HUGEPAGE for every anonymous region; Off otherwise (asked
    // for Off, a host without THP, or memory mapped from a snapshot file).
    HugePages huge_pages() const { return m_huge_pages; }
    // Advises 4 KiB pages (MADV_NOHUGEPAGE) for [address, address + size), which must lie in one
    // region: for a frame the host would otherwise fill as one huge page at its first write,
    // zeroing 2 MiB to store a few bytes. Where huge pages are Off it only checks the range.
    Result<void> keep_small_pages(GuestAddress address, uint64_t size);

    Result<void> read(GuestAddress address, std::span<uint8_t> destination) const;
    Result<void> write(GuestAddress address, std::span<uint8_t const> source);
    Result<void> fill(GuestAddress address, uint8_t value, uint64_t size);
    // write(address, bytes) where `bytes` are `file`'s bytes from `file_offset` on: the whole
    // pages are mapped MAP_PRIVATE from the file over guest RAM instead of copied (the guest
    // faults them in from the page cache when it touches them, shares them with every other VM
    // booted from that file until it writes one, and the setup copies nothing), and only a
    // partial first and last page is copied. Falls back to copying when the file is not given or
    // the guest address and file offset are not page-congruent. Setup only, before the guest
    // runs: the file must stay unchanged (not truncated) while the VM lives.
    Result<void> write_from_file(
        GuestAddress address, std::span<uint8_t const> bytes, MappableFile file, uint64_t file_offset);
    // fill(address, 0, size) without touching the whole pages: they are replaced with fresh
    // anonymous memory (MAP_FIXED, with the region's huge-page advice again), which reads as
    // zeros and is committed only when the guest touches it; only a partial first and last page
    // is written. A vmlinux's .bss (632 KiB, all zero already in fresh guest RAM) cost 158 page
    // faults of setup when it was written. Setup only, before the guest runs, like
    // write_from_file: nothing there is populated yet, so the new mapping splits no huge page,
    // and with the advice again the kernel merges it back into the region's mapping.
    Result<void> zero(GuestAddress address, uint64_t size);

    // The one way a host pointer leaves memory/: [address, address + size), checked like read and
    // write, as an iovec to hand straight to a vectored I/O system call (block images through
    // io_uring or preadv/pwritev without a bounce buffer). Callers must not dereference it.
    Result<iovec> io_vector(GuestAddress address, uint64_t size) const;

    template<typename T>
    Result<T> read_obj(GuestAddress address) const
    {
        static_assert(std::is_trivially_copyable_v<T>);
        T object {};
        TRY(read(address, std::span(reinterpret_cast<uint8_t*>(&object), sizeof(T))));
        return object;
    }

    template<typename T>
    Result<void> write_obj(GuestAddress address, T const& object)
    {
        static_assert(std::is_trivially_copyable_v<T>);
        return write(address, std::span(reinterpret_cast<uint8_t const*>(&object), sizeof(T)));
    }

    // Single-copy atomic access to a 16- or 32-bit guest word that a driver on another vCPU reads
    // or writes at the same time (ring indices, ring flags, event indices), with the ordering the
    // caller names and justifies, like vm-memory's load/store. Checked like read and write, and
    // for natural alignment: a misaligned address is an error, never an unaligned atomic access.
    // `order` must be valid for the operation (no release load, no acquire store).
    template<typename T>
    Result<T> load(GuestAddress address, std::memory_order order) const
    {
        static_assert(is_atomic_word<T>(), "guest atomics are 16- or 32-bit unsigned words");
        if (order == std::memory_order_release || order == std::memory_order_acq_rel)
            return fail("guest atomic load with a store ordering");
        auto* host = TRY(translate_atomic(address, sizeof(T)));
        return std::atomic_ref<T>(*reinterpret_cast<T*>(host)).load(order);
    }

    template<typename T>
    Result<void> store(GuestAddress address, T value, std::memory_order order)
    {
        static_assert(is_atomic_word<T>(), "guest atomics are 16- or 32-bit unsigned words");
        if (order == std::memory_order_consume || order == std::memory_order_acquire
            || order == std::memory_order_acq_rel)
            return fail("guest atomic store with a load ordering");
        auto* host = TRY(translate_atomic(address, sizeof(T)));
        std::atomic_ref<T>(*reinterpret_cast<T*>(host)).store(value, order);
        return {};
    }

private:
    struct Region {
        GuestAddress start;
        uint64_t size { 0 };
        uint8_t* host { nullptr };
    };
    explicit GuestMemory(std::vector<Region> regions)
        : m_regions(std::move(regions))
    {
    }
    // Gives [host, host + size) the huge-page advice of this memory (MADV_HUGEPAGE or
    // MADV_NOHUGEPAGE); false when the host refuses it (no THP).
    bool advise_huge_pages(uint8_t* host, uint64_t size) const;
    // 16- and 32-bit unsigned words, which x86-64 loads and stores atomically when aligned.
    template<typename T>
    static constexpr bool is_atomic_word()
    {
        if constexpr (std::is_same_v<T, uint16_t> || std::is_same_v<T, uint32_t>)
            return std::atomic_ref<T>::is_always_lock_free && std::atomic_ref<T>::required_alignment == sizeof(T);
        return false;
    }

    // Host pointer for a range wholly inside one region, or an error naming the problem.
    Result<uint8_t*> translate(GuestAddress address, uint64_t size) const;
    // translate() for an atomic word of `size` bytes, which must be naturally aligned.
    Result<uint8_t*> translate_atomic(GuestAddress address, uint64_t size) const;
    void unmap_all();

    std::vector<Region> m_regions;
    // What was asked for create(); m_huge_pages is what the host granted.
    HugePages m_huge_pages_asked { HugePages::Off };
    HugePages m_huge_pages { HugePages::Off };
    bool m_anonymous { true }; // false: mapped from a snapshot's memory file, no advice
};

} // namespace husk
