// UringBlockBackend: block operations as io_uring submissions on the event loop.
#include "runtime/block/uring_block_backend.hpp"

#include "runtime/base/log.hpp"
#include "runtime/block/block_io_helpers.hpp"

#include <cerrno>

namespace husk {

std::vector<IoOpcode> block_backend_opcodes()
{
    return { IoOpcode::ReadV, IoOpcode::WriteV, IoOpcode::Fsync, IoOpcode::Fallocate };
}

Result<std::unique_ptr<UringBlockBackend>> UringBlockBackend::create(EventLoop& loop, BlockImage&& image)
{
    auto file = TRY_CONTEXT(loop.register_file(image.fd()), "disk image");
    return std::unique_ptr<UringBlockBackend>(new UringBlockBackend(loop, std::move(image), file));
}

UringBlockBackend::UringBlockBackend(EventLoop& loop, BlockImage image, FixedFile file)
    : m_loop(loop)
    , m_image(std::move(image))
    , m_file(file)
{
}

UringBlockBackend::~UringBlockBackend()
{
    // Operations already in the kernel hold their own reference to the file; their completions
    // do nothing once revoked. Their iovecs point into guest memory, which outlives the devices.
    m_completions.revoke();
    if (auto unregistered = m_loop.unregister_file(m_file); !unregistered)
        log_warn("virtio-blk: " + unregistered.error().message);
}

Result<void> UringBlockBackend::start(uint64_t tag, Operation& operation)
{
    Completion completion
        = m_completions.bind([tag](UringBlockBackend& self, int result) { self.on_completion(tag, result); });
    auto const& io = operation.io;
    switch (io.operation) {
    case BlockOperation::Read:
        TRY(m_loop.readv(m_file, operation.rest, io.offset + operation.done, std::move(completion)));
        break;
    case BlockOperation::Write:
        TRY(m_loop.writev(m_file, operation.rest, io.offset + operation.done, std::move(completion)));
        break;
    case BlockOperation::Flush:
        TRY(m_loop.fsync(m_file, EventLoop::Sync::Data, std::move(completion)));
        break;
    case BlockOperation::WriteZeroes:
        if (operation.zero_phase == ZeroPhase::Writes) {
            // The one-entry iovec lives in the operation until the write completes.
            operation.rest.assign(1, zero_write_buffer(io.length - operation.done));
            TRY(m_loop.writev(m_file, operation.rest, io.offset + operation.done, std::move(completion)));
            break;
        }
        [[fallthrough]];
    case BlockOperation::Discard:
        TRY(m_loop.fallocate(m_file, block_fallocate_mode(io), io.offset, io.length, std::move(completion)));
        break;
    }
    return {};
}

Result<std::optional<BlockResult>> UringBlockBackend::submit(uint64_t tag, BlockIo const& io)
{
    if (m_image.is_read_only() && io.operation != BlockOperation::Read && io.operation != BlockOperation::Flush)
        return std::optional<BlockResult>(-EBADF); // the device refuses these first; the fd is O_RDONLY anyway
    auto [position, inserted] = m_operations.try_emplace(tag);
    if (!inserted)
        return fail("block operation tag " + std::to_string(tag) + " is already in flight");
    auto& operation = position->second;
    operation.io = io;
    operation.rest.assign(io.buffers.begin(), io.buffers.end());
    operation.io.buffers = {}; // the device's array is not needed past this call
    if (io.operation == BlockOperation::WriteZeroes && m_zero_fill == ZeroFill::WritesOnly) {
        operation.zero_phase = ZeroPhase::Writes;
        if (io.length == 0) {
            m_operations.erase(position);
            return std::optional<BlockResult>(0);
        }
    }
    if (auto started = start(tag, operation); !started) {
        m_operations.erase(position);
        return unexpected(std::move(started).error());
    }
    return std::optional<BlockResult>();
}

bool UringBlockBackend::continue_write_zeroes(uint64_t tag, Operation& operation, int& result)
{
    if (operation.zero_phase == ZeroPhase::Fallocate) {
        if (result != -EOPNOTSUPP || operation.io.length == 0)
            return false;
        operation.zero_phase = ZeroPhase::Writes; // this filesystem has no ZERO_RANGE: write them
    } else if (result < 0) {
        return false;
    } else if (result == 0) {
        result = -EIO; // no progress: give up rather than resubmit forever
        return false;
    } else {
        operation.done += static_cast<uint64_t>(result);
        if (operation.done >= operation.io.length) {
            result = 0;
            return false;
        }
    }
    if (start(tag, operation))
        return true;
    result = -EIO;
    return false;
}

void UringBlockBackend::on_completion(uint64_t tag, int result)
{
    auto found = m_operations.find(tag);
    if (found == m_operations.end())
        return;
    auto& operation = found->second;
    if (operation.io.operation == BlockOperation::WriteZeroes) {
        if (continue_write_zeroes(tag, operation, result))
            return;
        m_operations.erase(found);
        if (m_events)
            m_events->on_block_complete(tag, result < 0 ? BlockResult { result } : 0);
        return;
    }
    // A discard only gives space back (QEMU can be told to ignore them all): where the host
    // filesystem cannot punch holes it succeeds without doing anything.
    if (operation.io.operation == BlockOperation::Discard && result == -EOPNOTSUPP)
        result = 0;
    bool is_transfer
        = operation.io.operation == BlockOperation::Read || operation.io.operation == BlockOperation::Write;
    if (is_transfer && result > 0) {
        operation.done += static_cast<uint64_t>(result);
        if (operation.done < operation.io.length) {
            // Short transfer: go on with the rest (the kernel copied the old iovec array at submit).
            auto rest = iovec_tail(operation.rest, static_cast<uint64_t>(result));
            operation.rest = std::move(rest);
            if (start(tag, operation))
                return;
            result = -EIO;
        }
    }
    BlockResult reported = result < 0 ? BlockResult { result } : static_cast<BlockResult>(operation.done);
    m_operations.erase(found);
    if (m_events)
        m_events->on_block_complete(tag, reported);
}

} // namespace husk
