// SyncBlockBackend: each operation as one blocking system call (short transfers continued);
// write-zeroes without fallocate support as a loop of bounded zero writes.
#include "runtime/block/sync_block_backend.hpp"

#include "runtime/block/block_io_helpers.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace husk {

BlockResult SyncBlockBackend::transfer(BlockIo const& io)
{
    uint64_t done = 0;
    std::vector<iovec> rest(io.buffers.begin(), io.buffers.end());
    while (done < io.length) {
        // At most seg_max (128) buffers per request: below IOV_MAX.
        auto offset = static_cast<off_t>(io.offset + done);
        auto count = static_cast<int>(rest.size());
        ssize_t moved = io.operation == BlockOperation::Read ? ::preadv(m_image.fd(), rest.data(), count, offset)
                                                             : ::pwritev(m_image.fd(), rest.data(), count, offset);
        if (moved < 0 && errno == EINTR)
            continue;
        if (moved < 0)
            return -errno;
        if (moved == 0)
            break; // end of file: the image shrank under us; the device reports the short count
        done += static_cast<uint64_t>(moved);
        rest = iovec_tail(io.buffers, done);
    }
    return static_cast<BlockResult>(done);
}

BlockResult SyncBlockBackend::write_zeroes(BlockIo const& io)
{
    if (m_zero_fill == ZeroFill::FallocateFirst) {
        if (::fallocate(
                m_image.fd(), block_fallocate_mode(io), static_cast<off_t>(io.offset), static_cast<off_t>(io.length))
            == 0)
            return 0;
        if (errno != EOPNOTSUPP)
            return -errno;
    }
    uint64_t done = 0;
    while (done < io.length) {
        // pwritev, not pwrite: the event thread's seccomp filter allows the vectored call.
        iovec zeroes = zero_write_buffer(io.length - done);
        ssize_t written = ::pwritev(m_image.fd(), &zeroes, 1, static_cast<off_t>(io.offset + done));
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0)
            return -errno;
        if (written == 0)
            return -EIO; // no progress: do not spin on the event thread
        done += static_cast<uint64_t>(written);
    }
    return 0;
}

Result<std::optional<BlockResult>> SyncBlockBackend::submit(uint64_t, BlockIo const& io)
{
    if (m_image.is_read_only() && io.operation != BlockOperation::Read && io.operation != BlockOperation::Flush)
        return std::optional<BlockResult>(-EBADF); // the device refuses these first; the fd is O_RDONLY anyway
    switch (io.operation) {
    case BlockOperation::Read:
    case BlockOperation::Write:
        return std::optional<BlockResult>(transfer(io));
    case BlockOperation::Flush:
        return std::optional<BlockResult>(::fdatasync(m_image.fd()) == 0 ? 0 : -errno);
    case BlockOperation::WriteZeroes:
        return std::optional<BlockResult>(write_zeroes(io));
    case BlockOperation::Discard: {
        int result = ::fallocate(
            m_image.fd(), block_fallocate_mode(io), static_cast<off_t>(io.offset), static_cast<off_t>(io.length));
        // A discard only gives space back (QEMU can be told to ignore them all): where the host
        // filesystem cannot punch holes it succeeds without doing anything.
        return std::optional<BlockResult>(result == 0 || errno == EOPNOTSUPP ? 0 : -errno);
    }
    }
    return std::optional<BlockResult>(-EINVAL);
}

} // namespace husk
