// parse_block_request: the pure virtio-blk request parser. It reads one DescriptorChain (header,
// data, status byte) against the disk's limits and either yields a request for the backend or
// the status to complete it with at once. It touches guest memory only to read the header and
// discard segments, so it can be fuzzed and tested without a device or a backend.
//
// Layout accepted (any split of bytes across descriptors, as VERSION_1 implies ANY_LAYOUT):
//   readable: 16-byte header, then for OUT the data and for DISCARD/WRITE_ZEROES one segment;
//   writable: for IN/GET_ID the data, then the status byte, which is the last byte of the last
//   descriptor. A chain whose last descriptor is not writable or is empty has nowhere to put a
//   status: it is completed with used length 0 and no status.
#pragma once

#include "runtime/memory/guest_memory.hpp"
#include "virtio/block/block_spec.hpp"
#include "virtio/queue/descriptor_chain.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace husk {

enum class BlockRequestType : uint8_t {
    Read,
    Write,
    Flush,
    GetId,
    Discard,
    WriteZeroes,
};

// What the disk allows, as negotiated: a feature the driver did not accept counts as absent.
struct BlockDiskLimits {
    uint64_t capacity_sectors { 0 };
    bool read_only { false };
    bool discard { false };
    bool write_zeroes { false };
    uint32_t max_discard_sectors { 0 };
    uint32_t max_write_zeroes_sectors { 0 };
};

// One guest buffer range of the request's data.
struct BlockSegment {
    GuestAddress address;
    uint32_t length { 0 };
};

struct BlockRequest {
    BlockRequestType type { BlockRequestType::Read };
    // Read/Write/Discard/WriteZeroes: where on the disk, in bytes (already checked against the
    // capacity). Flush/GetId: 0.
    uint64_t offset { 0 };
    uint64_t length { 0 };
    bool unmap { false }; // WriteZeroes may deallocate
    // Read/GetId: writable ranges to fill; Write: readable ranges to store. The status byte is
    // never part of them.
    std::vector<BlockSegment> data;
};

// The outcome of parsing: submit `request`, or write `status` at once, or (no status_address)
// complete with used length 0.
struct ParsedBlockRequest {
    std::optional<GuestAddress> status_address;
    uint8_t status { virtio::block::status::ok }; // ok: `request` is to be carried out
    std::string_view problem; // why status is not ok, for logs and tests; empty when ok
    BlockRequest request;

    bool can_report() const { return status_address.has_value(); }
    bool is_valid() const { return can_report() && status == virtio::block::status::ok; }
};

ParsedBlockRequest parse_block_request(
    GuestMemory const& memory, DescriptorChain const& chain, BlockDiskLimits const& limits);

} // namespace husk
