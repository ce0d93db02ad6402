// Shared helpers of the image backends.
#include "runtime/block/block_io_helpers.hpp"

#include <fcntl.h>
#include <linux/falloc.h>

namespace husk {

int block_fallocate_mode(BlockIo const& io)
{
    // Discard and an unmapping write-zeroes punch a hole: the range reads back as zeroes and
    // gives its space back to the host. A plain write-zeroes keeps the blocks allocated.
    if (io.operation == BlockOperation::Discard || io.unmap)
        return FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
    return FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
}

std::vector<iovec> iovec_tail(std::span<iovec const> buffers, uint64_t done)
{
    std::vector<iovec> tail;
    for (auto const& buffer : buffers) {
        if (done >= buffer.iov_len) {
            done -= buffer.iov_len;
            continue;
        }
        tail.push_back({ static_cast<uint8_t*>(buffer.iov_base) + done, buffer.iov_len - done });
        done = 0;
    }
    return tail;
}

} // namespace husk
