// virtio-blk constants and wire structures (virtio 1.2 §5.2): feature bits, request types,
// status values, the config space and the request header and discard/write-zeroes segment.
// All little-endian, read natively (see virtio_spec.hpp).
#pragma once

#include <cstdint>

namespace husk::virtio::block {

inline constexpr uint64_t sector_size = 512;
inline constexpr unsigned sector_shift = 9;
// GET_ID answers with at most this many bytes, zero-padded (§5.2.6).
inline constexpr uint32_t id_length = 20;

// Feature bits, as bit numbers (§5.2.3).
namespace feature {
    inline constexpr unsigned size_max = 1;
    inline constexpr unsigned seg_max = 2;
    inline constexpr unsigned read_only = 5;
    inline constexpr unsigned blk_size = 6;
    inline constexpr unsigned flush = 9;
    inline constexpr unsigned discard = 13;
    inline constexpr unsigned write_zeroes = 14;
} // namespace feature

// Request types (§5.2.6).
namespace request_type {
    inline constexpr uint32_t in = 0; // read
    inline constexpr uint32_t out = 1; // write
    inline constexpr uint32_t flush = 4;
    inline constexpr uint32_t get_id = 8;
    inline constexpr uint32_t discard = 11;
    inline constexpr uint32_t write_zeroes = 13;
} // namespace request_type

// The status byte the device writes last (§5.2.6).
namespace status {
    inline constexpr uint8_t ok = 0;
    inline constexpr uint8_t io_error = 1;
    inline constexpr uint8_t unsupported = 2;
} // namespace status

// Flags of a discard / write-zeroes segment.
namespace segment_flag {
    inline constexpr uint32_t unmap = 1;
} // namespace segment_flag

// The config space up to the write-zeroes fields (§5.2.4); husk offers nothing beyond.
struct [[gnu::packed]] Config {
    uint64_t capacity; // in 512-byte sectors, whatever blk_size says
    uint32_t size_max;
    uint32_t seg_max;
    uint16_t geometry_cylinders;
    uint8_t geometry_heads;
    uint8_t geometry_sectors;
    uint32_t blk_size;
    uint8_t physical_block_exp;
    uint8_t alignment_offset;
    uint16_t min_io_size;
    uint32_t opt_io_size;
    uint8_t writeback;
    uint8_t unused0;
    uint16_t num_queues;
    uint32_t max_discard_sectors;
    uint32_t max_discard_seg;
    uint32_t discard_sector_alignment;
    uint32_t max_write_zeroes_sectors;
    uint32_t max_write_zeroes_seg;
    uint8_t write_zeroes_may_unmap;
    uint8_t unused1[3];
};
static_assert(sizeof(Config) == 60);

// The device-readable header that starts every request.
struct RequestHeader {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};
static_assert(sizeof(RequestHeader) == 16);

// One range of a discard or write-zeroes request, in the readable data after the header.
struct DiscardSegment {
    uint64_t sector;
    uint32_t num_sectors;
    uint32_t flags;
};
static_assert(sizeof(DiscardSegment) == 16);

} // namespace husk::virtio::block
