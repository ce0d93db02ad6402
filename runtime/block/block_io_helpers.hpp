// Helpers both image backends share: the fallocate mode for discard / write-zeroes, and the rest
// of an iovec array after a short transfer.
#pragma once

#include "virtio/block/block_backend.hpp"

#include <cstdint>
#include <span>
#include <sys/uio.h>
#include <vector>

namespace husk {

// FALLOC_FL_* for a Discard or WriteZeroes; never changes the file size.
int block_fallocate_mode(BlockIo const& io);

// The buffers left after the first `done` bytes of `buffers` were transferred.
std::vector<iovec> iovec_tail(std::span<iovec const> buffers, uint64_t done);

} // namespace husk
