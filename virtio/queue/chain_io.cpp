// ChainCursor, ChainReader, ChainWriter: piecewise guest copies across a chain's buffers.
#include "virtio/queue/chain_io.hpp"

#include <algorithm>

namespace husk {

ChainCursor::ChainCursor(DescriptorChain const& chain, BufferAccess access)
    : m_buffers(chain.buffers())
    , m_access(access)
    , m_remaining(access == BufferAccess::DeviceReadable ? chain.readable_length() : chain.writable_length())
{
    skip_exhausted();
}

void ChainCursor::skip_exhausted()
{
    while (m_index < m_buffers.size()
        && (m_buffers[m_index].access != m_access || m_offset >= m_buffers[m_index].length)) {
        ++m_index;
        m_offset = 0;
    }
}

ChainCursor::Segment ChainCursor::current(uint64_t limit) const
{
    if (m_index >= m_buffers.size())
        return {};
    auto const& buffer = m_buffers[m_index];
    uint32_t length = static_cast<uint32_t>(std::min<uint64_t>(buffer.length - m_offset, limit));
    // Cannot overflow: SplitQueue checked the whole buffer lies inside guest memory.
    return { buffer.address.unchecked_add(m_offset), length };
}

void ChainCursor::advance(uint32_t count)
{
    m_offset += count;
    m_remaining -= count;
    skip_exhausted();
}

Result<void> ChainReader::read(std::span<uint8_t> destination)
{
    if (destination.size() > remaining())
        return fail("descriptor chain has " + std::to_string(remaining()) + " readable bytes left, "
            + std::to_string(destination.size()) + " needed");
    size_t done = 0;
    while (done < destination.size()) {
        auto segment = m_cursor.current(destination.size() - done);
        if (segment.length == 0)
            return fail("descriptor chain ended early"); // unreachable: remaining() counts these bytes
        TRY(m_memory.read(segment.address, destination.subspan(done, segment.length)));
        m_cursor.advance(segment.length);
        m_bytes_read += segment.length;
        done += segment.length;
    }
    return {};
}

Result<void> ChainReader::skip(uint64_t count)
{
    if (count > remaining())
        return fail(
            "cannot skip " + std::to_string(count) + " bytes, " + std::to_string(remaining()) + " readable left");
    while (count > 0) {
        auto segment = m_cursor.current(count);
        if (segment.length == 0)
            return fail("descriptor chain ended early"); // unreachable: remaining() counts these bytes
        m_cursor.advance(segment.length);
        m_bytes_read += segment.length;
        count -= segment.length;
    }
    return {};
}

Result<void> ChainWriter::write(std::span<uint8_t const> source)
{
    if (source.size() > remaining())
        return fail("descriptor chain has " + std::to_string(remaining()) + " writable bytes left, "
            + std::to_string(source.size()) + " needed");
    size_t done = 0;
    while (done < source.size()) {
        auto segment = m_cursor.current(source.size() - done);
        if (segment.length == 0)
            return fail("descriptor chain ended early"); // unreachable: remaining() counts these bytes
        TRY(m_memory.write(segment.address, source.subspan(done, segment.length)));
        m_cursor.advance(segment.length);
        m_bytes_written += segment.length;
        done += segment.length;
    }
    return {};
}

bool append_io_vectors(GuestMemory const& memory, DescriptorChain const& chain, BufferAccess access, uint64_t skip,
    size_t max_vectors, std::vector<iovec>& vectors)
{
    ChainCursor cursor(chain, access);
    while (skip > 0) {
        auto segment = cursor.current(skip);
        if (segment.length == 0)
            return false;
        cursor.advance(segment.length);
        skip -= segment.length;
    }
    for (auto segment = cursor.current(UINT64_MAX); segment.length > 0; segment = cursor.current(UINT64_MAX)) {
        if (vectors.size() == max_vectors)
            return false;
        auto vector = memory.io_vector(segment.address, segment.length);
        if (!vector) // unreachable: SplitQueue checked every buffer against guest memory
            return false;
        vectors.push_back(*vector);
        cursor.advance(segment.length);
    }
    return true;
}

} // namespace husk
