// Helpers both image backends share: the fallocate mode for discard / write-zeroes, the zero
// buffer of the write-zeroes fallback, and the rest of an iovec array after a short transfer.
#pragma once

#include "virtio/block/block_backend.hpp"

#include <cstdint>
#include <span>
#include <sys/uio.h>
#include <vector>

namespace husk {

// FALLOC_FL_* for a Discard or WriteZeroes; never changes the file size.
int block_fallocate_mode(BlockIo const& io);

// How WRITE_ZEROES zeroes its range. fallocate (ZERO_RANGE, or PUNCH_HOLE when unmapping) is
// tried first; a filesystem without it answers EOPNOTSUPP and the backend then writes zeroes in
// chunks of at most zero_write_max_bytes. WritesOnly skips fallocate (tests use it to reach the
// fallback on any filesystem).
enum class ZeroFill : uint8_t { FallocateFirst, WritesOnly };

inline constexpr uint64_t zero_write_max_bytes = 1 << 20;

// One write of the fallback: min(remaining, zero_write_max_bytes) bytes from a shared zero buffer
// that nothing ever writes to.
iovec zero_write_buffer(uint64_t remaining);

// The buffers left after the first `done` bytes of `buffers` were transferred.
std::vector<iovec> iovec_tail(std::span<iovec const> buffers, uint64_t done);

} // namespace husk
