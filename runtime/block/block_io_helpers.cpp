// Shared helpers of the image backends.
#include "runtime/block/block_io_helpers.hpp"

#include <algorithm>
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

iovec zero_write_buffer(uint64_t remaining)
{
    // Not const: a zero-initialised writable array lives in .bss, so the megabyte costs no file
    // size and only the pages the kernel reads. Only ever the source of writes.
    alignas(4096) static uint8_t zeros[zero_write_max_bytes] {};
    return { zeros, static_cast<size_t>(std::min(remaining, zero_write_max_bytes)) };
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
