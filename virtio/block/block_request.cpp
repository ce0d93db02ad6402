// parse_block_request: header, data ranges and status byte of one virtio-blk request.
#include "virtio/block/block_request.hpp"

#include "virtio/queue/chain_io.hpp"

namespace husk {

namespace {

    namespace blk = virtio::block;

    // `length` bytes of the `access` buffers after the first `skip` of them, as guest ranges.
    std::vector<BlockSegment> collect(DescriptorChain const& chain, BufferAccess access, uint64_t skip, uint64_t length)
    {
        std::vector<BlockSegment> segments;
        ChainCursor cursor(chain, access);
        while (skip > 0) {
            auto segment = cursor.current(skip);
            if (segment.length == 0)
                return segments; // unreachable: callers pass lengths within the chain
            cursor.advance(segment.length);
            skip -= segment.length;
        }
        while (length > 0) {
            auto segment = cursor.current(length);
            if (segment.length == 0)
                break;
            segments.push_back({ segment.address, segment.length });
            cursor.advance(segment.length);
            length -= segment.length;
        }
        return segments;
    }

    // Whether [sector, sector + count) lies on the disk; all in 64 bits, no overflow.
    bool in_range(uint64_t sector, uint64_t count, uint64_t capacity)
    {
        return sector <= capacity && count <= capacity - sector;
    }

    void reject(ParsedBlockRequest& parsed, uint8_t status, std::string_view problem)
    {
        parsed.status = status;
        parsed.problem = problem;
    }

    // IN/OUT: the data must be whole sectors inside the disk.
    void parse_transfer(ParsedBlockRequest& parsed, DescriptorChain const& chain, blk::RequestHeader const& header,
        BlockDiskLimits const& limits)
    {
        bool is_read = header.type == blk::request_type::in;
        uint64_t extra_readable = chain.readable_length() - sizeof header;
        uint64_t extra_writable = chain.writable_length() - 1;
        if (!is_read && limits.read_only)
            return reject(parsed, blk::status::io_error, "write to a read-only disk");
        if ((is_read ? extra_readable : extra_writable) != 0)
            return reject(parsed, blk::status::io_error, "buffers of the wrong direction for the request type");
        uint64_t length = is_read ? extra_writable : extra_readable;
        if (length % blk::sector_size != 0)
            return reject(parsed, blk::status::io_error, "data length is not a multiple of 512");
        if (!in_range(header.sector, length >> blk::sector_shift, limits.capacity_sectors))
            return reject(parsed, blk::status::io_error, "sectors beyond the disk's capacity");
        parsed.request.type = is_read ? BlockRequestType::Read : BlockRequestType::Write;
        parsed.request.offset = header.sector << blk::sector_shift;
        parsed.request.length = length;
        parsed.request.data = is_read ? collect(chain, BufferAccess::DeviceWritable, 0, length)
                                      : collect(chain, BufferAccess::DeviceReadable, sizeof header, length);
    }

    // DISCARD/WRITE_ZEROES: exactly one segment (max_*_seg is 1), known flags, within limits.
    void parse_range(ParsedBlockRequest& parsed, ChainReader& reader, blk::RequestHeader const& header,
        BlockDiskLimits const& limits)
    {
        bool is_discard = header.type == blk::request_type::discard;
        if (limits.read_only)
            return reject(parsed, blk::status::io_error, "discard or write-zeroes on a read-only disk");
        if (is_discard ? !limits.discard : !limits.write_zeroes)
            return reject(parsed, blk::status::unsupported, "discard or write-zeroes not negotiated");
        if (reader.remaining() != sizeof(blk::DiscardSegment))
            return reject(parsed, blk::status::io_error, "discard or write-zeroes without exactly one segment");
        auto segment = reader.read_obj<blk::DiscardSegment>();
        if (!segment)
            return reject(parsed, blk::status::io_error, "discard segment unreadable"); // unreachable: checked at pop
        uint32_t allowed_flags = is_discard ? 0 : blk::segment_flag::unmap;
        if ((segment->flags & ~allowed_flags) != 0)
            return reject(parsed, blk::status::unsupported, "unknown or unsupported segment flags");
        uint32_t max_sectors = is_discard ? limits.max_discard_sectors : limits.max_write_zeroes_sectors;
        if (segment->num_sectors > max_sectors)
            return reject(parsed, blk::status::io_error, "segment larger than the advertised maximum");
        if (!in_range(segment->sector, segment->num_sectors, limits.capacity_sectors))
            return reject(parsed, blk::status::io_error, "sectors beyond the disk's capacity");
        parsed.request.type = is_discard ? BlockRequestType::Discard : BlockRequestType::WriteZeroes;
        parsed.request.offset = segment->sector << blk::sector_shift;
        parsed.request.length = uint64_t { segment->num_sectors } << blk::sector_shift;
        parsed.request.unmap = (segment->flags & blk::segment_flag::unmap) != 0;
    }

} // namespace

ParsedBlockRequest parse_block_request(
    GuestMemory const& memory, DescriptorChain const& chain, BlockDiskLimits const& limits)
{
    ParsedBlockRequest parsed;
    auto buffers = chain.buffers();
    if (buffers.empty() || buffers.back().access != BufferAccess::DeviceWritable || buffers.back().length == 0) {
        parsed.status = blk::status::io_error;
        parsed.problem = "no writable status byte at the end of the chain";
        return parsed;
    }
    // SplitQueue checked the buffer lies in guest memory, so its last byte's address cannot wrap.
    parsed.status_address = buffers.back().address.unchecked_add(buffers.back().length - 1);

    ChainReader reader(memory, chain);
    auto header = reader.read_obj<blk::RequestHeader>();
    if (!header) {
        reject(parsed, blk::status::io_error, "request header shorter than 16 bytes");
        return parsed;
    }

    switch (header->type) {
    case blk::request_type::in:
    case blk::request_type::out:
        parse_transfer(parsed, chain, *header, limits);
        return parsed;
    case blk::request_type::flush:
        parsed.request.type = BlockRequestType::Flush;
        return parsed;
    case blk::request_type::get_id:
        if (chain.writable_length() - 1 < blk::id_length)
            reject(parsed, blk::status::io_error, "GET_ID buffer shorter than 20 bytes");
        else {
            parsed.request.type = BlockRequestType::GetId;
            parsed.request.length = blk::id_length;
            parsed.request.data = collect(chain, BufferAccess::DeviceWritable, 0, blk::id_length);
        }
        return parsed;
    case blk::request_type::discard:
    case blk::request_type::write_zeroes:
        parse_range(parsed, reader, *header, limits);
        return parsed;
    default:
        reject(parsed, blk::status::unsupported, "unknown request type");
        return parsed;
    }
}

} // namespace husk
