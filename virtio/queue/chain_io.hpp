// ChainReader / ChainWriter: stream access to the device-readable or device-writable buffers of
// a DescriptorChain, across buffer boundaries, always through GuestMemory. The writer counts the
// bytes it really wrote: that count is the used length the device reports. Both keep a view of
// the chain's buffers, so the chain must outlive them.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/memory/guest_memory.hpp"
#include "virtio/queue/descriptor_chain.hpp"

#include <cstdint>
#include <span>
#include <sys/uio.h>
#include <type_traits>
#include <vector>

namespace husk {

// Appends the `access` buffers of `chain`, from byte `skip` on, as iovecs into guest memory (for
// vectored I/O system calls without a bounce buffer). False when `skip` runs past the buffers or
// more than `max_vectors` would be needed.
bool append_io_vectors(GuestMemory const& memory, DescriptorChain const& chain, BufferAccess access, uint64_t skip,
    size_t max_vectors, std::vector<iovec>& vectors);

// Position within the buffers of one access kind; shared by reader and writer.
class ChainCursor {
public:
    ChainCursor(DescriptorChain const& chain, BufferAccess access);

    uint64_t remaining() const { return m_remaining; }
    // The contiguous guest range at the cursor, at most `limit` bytes; empty at the end.
    struct Segment {
        GuestAddress address;
        uint32_t length { 0 };
    };
    Segment current(uint64_t limit) const;
    void advance(uint32_t count);

private:
    void skip_exhausted();

    std::span<ChainBuffer const> m_buffers;
    BufferAccess m_access;
    size_t m_index { 0 };
    uint32_t m_offset { 0 }; // within m_buffers[m_index]
    uint64_t m_remaining { 0 };
};

class ChainReader {
public:
    ChainReader(GuestMemory const& memory, DescriptorChain const& chain)
        : m_memory(memory)
        , m_cursor(chain, BufferAccess::DeviceReadable)
    {
    }

    uint64_t remaining() const { return m_cursor.remaining(); }
    uint64_t bytes_read() const { return m_bytes_read; }

    // Fills all of `destination`, or fails without consuming anything when too few bytes remain.
    Result<void> read(std::span<uint8_t> destination);
    Result<void> skip(uint64_t count);

    template<typename T>
    Result<T> read_obj()
    {
        static_assert(std::is_trivially_copyable_v<T>);
        T object {};
        TRY(read(std::span(reinterpret_cast<uint8_t*>(&object), sizeof(T))));
        return object;
    }

private:
    GuestMemory const& m_memory;
    ChainCursor m_cursor;
    uint64_t m_bytes_read { 0 };
};

class ChainWriter {
public:
    ChainWriter(GuestMemory& memory, DescriptorChain const& chain)
        : m_memory(memory)
        , m_cursor(chain, BufferAccess::DeviceWritable)
    {
    }

    uint64_t remaining() const { return m_cursor.remaining(); }
    // Bytes that reached guest memory: the used length to report for this chain.
    uint64_t bytes_written() const { return m_bytes_written; }

    // Writes all of `source`, or fails without writing when it does not fit.
    Result<void> write(std::span<uint8_t const> source);

    template<typename T>
    Result<void> write_obj(T const& object)
    {
        static_assert(std::is_trivially_copyable_v<T>);
        return write(std::span(reinterpret_cast<uint8_t const*>(&object), sizeof(T)));
    }

private:
    GuestMemory& m_memory;
    ChainCursor m_cursor;
    // At most UINT32_MAX for chains from SplitQueue, which rejects larger writable totals, so it
    // fits a used length; 64 bits keeps hand-built chains from wrapping it.
    uint64_t m_bytes_written { 0 };
};

} // namespace husk
