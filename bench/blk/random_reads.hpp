// 4 KiB reads at random 4 KiB-aligned offsets over a whole device or file: at queue depth one
// with pread, deeper with native AIO. Every read must return exactly 4 KiB; anything else (an
// error, a short read) ends the test with an error naming the offset.
#pragma once

#include "runtime/base/result.hpp"

#include <cstdint>
#include <optional>

namespace husk::bench {

inline constexpr uint64_t read_size = 4096;

// splitmix64: seeded, fast, good enough to spread offsets; the same seed gives the same offsets.
class RandomBlocks {
public:
    RandomBlocks(uint64_t seed, uint64_t block_count)
        : m_state(seed)
        , m_block_count(block_count)
    {
    }
    uint64_t next_offset();

private:
    uint64_t m_state;
    uint64_t m_block_count;
};

struct ReadPlan {
    int fd { -1 };
    uint64_t block_count { 0 }; // whole 4 KiB blocks on the device
    unsigned depth { 1 };
    std::optional<uint64_t> count; // reads to do; otherwise until `seconds` have passed
    double seconds { 0 };
    uint64_t seed { 1 };
};

struct ReadFigures {
    uint64_t ops { 0 };
    double seconds { 0 }; // first submission to last completion, CLOCK_MONOTONIC
};

Result<ReadFigures> run_random_reads(ReadPlan const& plan);

// The device's size: BLKGETSIZE64 for a block device, st_size for a regular file.
Result<uint64_t> device_size_bytes(int fd);

} // namespace husk::bench
