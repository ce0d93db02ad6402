// create_block_backend: io_uring when possible, the synchronous fallback otherwise.
#include "runtime/block/block_backend_factory.hpp"

#include "runtime/base/log.hpp"
#include "runtime/block/sync_block_backend.hpp"
#include "runtime/block/uring_block_backend.hpp"

namespace husk {

BlockBackendChoice create_block_backend(
    BlockImage image, EventLoop* loop, std::string const& name, std::string const& why_no_loop)
{
    std::string reason = why_no_loop.empty() ? "no io_uring event loop" : why_no_loop;
    if (loop) {
        auto backend = UringBlockBackend::create(*loop, std::move(image));
        if (backend)
            return { std::move(backend).value(), BlockBackendKind::IoUring };
        reason = backend.error().message; // e.g. the loop's file table is full; the image is still ours
    }
    log_info("virtio-blk " + name + ": io_uring unavailable (" + reason + "); using synchronous I/O");
    return { std::make_unique<SyncBlockBackend>(std::move(image)), BlockBackendKind::Synchronous };
}

} // namespace husk
