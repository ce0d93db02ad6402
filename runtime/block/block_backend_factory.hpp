// create_block_backend: the backend for one disk. io_uring on the event loop when the VMM has
// one; the synchronous fallback when io_uring is unavailable (no loop) or the loop refuses the
// image, said once in the log so a slow disk is never a mystery.
#pragma once

#include "runtime/block/block_image.hpp"
#include "runtime/io/event_loop.hpp"
#include "virtio/block/block_backend.hpp"

#include <memory>
#include <string>

namespace husk {

enum class BlockBackendKind : uint8_t { IoUring, Synchronous };

struct BlockBackendChoice {
    std::unique_ptr<BlockBackend> backend;
    BlockBackendKind kind { BlockBackendKind::IoUring };
};

// `loop` may be null (io_uring unavailable); `why_no_loop` then says why, for the log line.
// `name` names the disk in that line.
BlockBackendChoice create_block_backend(
    BlockImage image, EventLoop* loop, std::string const& name, std::string const& why_no_loop = {});

} // namespace husk
