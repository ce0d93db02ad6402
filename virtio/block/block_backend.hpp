// BlockBackend: where a BlockDevice's requests go (a raw image file through io_uring or plain
// system calls in runtime/block/, a fake in tests). Reads and writes move data straight between
// the disk and guest memory through iovecs, so a backend never copies.
//
// Completion: submit() either finishes the operation at once and returns its result (a
// synchronous backend), or returns nullopt and reports the result later, exactly once, through
// BlockBackendEvents::on_block_complete with the same tag. Results are in any order. A backend
// never calls on_block_complete from inside submit(). iovec arrays and the memory they describe
// stay valid until the operation is reported.
//
// Threading: submit() and on_block_complete() happen on the VMM's event thread.
#pragma once

#include "runtime/base/result.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <sys/uio.h>

namespace husk {

enum class BlockOperation : uint8_t {
    Read, // into `buffers`
    Write, // from `buffers`
    Flush, // make completed writes durable
    Discard, // deallocate [offset, offset + length); reads of it return zeroes afterwards
    WriteZeroes, // zero [offset, offset + length), deallocating it when `unmap`
};

struct BlockIo {
    BlockOperation operation { BlockOperation::Read };
    uint64_t offset { 0 }; // bytes from the start of the disk
    uint64_t length { 0 }; // bytes; for Read/Write the sum of the buffers' lengths
    std::span<iovec const> buffers;
    bool unmap { false };
};

// bytes transferred (Read/Write), 0 (other operations) or -errno.
using BlockResult = int64_t;

class BlockBackendEvents {
public:
    virtual ~BlockBackendEvents() = default;
    virtual void on_block_complete(uint64_t tag, BlockResult result) = 0;
};

class BlockBackend {
public:
    virtual ~BlockBackend() = default;

    virtual void set_events(BlockBackendEvents* events) = 0;
    // The disk's size in bytes, fixed for the backend's lifetime.
    virtual uint64_t size_bytes() const = 0;
    virtual bool is_read_only() const = 0;
    virtual bool supports_discard() const = 0;
    // A stable identifier for GET_ID (up to 20 bytes are used).
    virtual std::string_view id() const = 0;

    // Starts `io`; see the completion rules above. An error means it could not even be started
    // (the device reports IOERR).
    virtual Result<std::optional<BlockResult>> submit(uint64_t tag, BlockIo const& io) = 0;
};

} // namespace husk
