// UringBlockBackend: a BlockBackend on the VMM's io_uring EventLoop. The image is a fixed file of
// the loop; reads and writes are readv/writev straight into guest memory, flush is fdatasync and
// discard / write-zeroes are fallocate; where the filesystem has no FALLOC_FL_ZERO_RANGE
// (EOPNOTSUPP) write-zeroes goes on as a chain of bounded zero writes, the next submitted as the
// previous completes (see ZeroFill). Every operation completes later through
// BlockBackendEvents, in the order the kernel finishes them. A short transfer is continued with
// the rest of the buffers before it is reported.
//
// The loop must allow block_backend_opcodes(). Everything runs on the loop's thread. Destroying
// the backend with operations in flight is safe: their completions find it gone and do nothing.
#pragma once

#include "runtime/block/block_image.hpp"
#include "runtime/block/block_io_helpers.hpp"
#include "runtime/io/event_loop.hpp"
#include "runtime/io/owner_completions.hpp"
#include "virtio/block/block_backend.hpp"

#include <memory>
#include <unordered_map>
#include <vector>

namespace husk {

// What a loop must allow for block backends.
std::vector<IoOpcode> block_backend_opcodes();

class UringBlockBackend final : public BlockBackend {
public:
    // Registers the image with `loop`, which must outlive the backend. Takes the image only on
    // success, so a caller can fall back to another backend with it.
    static Result<std::unique_ptr<UringBlockBackend>> create(EventLoop& loop, BlockImage&& image);
    ~UringBlockBackend() override;
    UringBlockBackend(UringBlockBackend const&) = delete;
    UringBlockBackend& operator=(UringBlockBackend const&) = delete;

    void set_events(BlockBackendEvents* events) override { m_events = events; }
    uint64_t size_bytes() const override { return m_image.size_bytes(); }
    bool is_read_only() const override { return m_image.is_read_only(); }
    bool supports_discard() const override { return !m_image.is_read_only(); }
    std::string_view id() const override { return m_image.id(); }
    Result<std::optional<BlockResult>> submit(uint64_t tag, BlockIo const& io) override;

    size_t operations_in_flight() const { return m_operations.size(); }
    void set_zero_fill(ZeroFill mode) { m_zero_fill = mode; }

private:
    // Write-zeroes: fallocate first, or already writing zeroes.
    enum class ZeroPhase : uint8_t { Fallocate, Writes };

    struct Operation {
        BlockIo io;
        std::vector<iovec> rest; // the buffers not transferred yet
        uint64_t done { 0 };
        ZeroPhase zero_phase { ZeroPhase::Fallocate };
    };

    UringBlockBackend(EventLoop& loop, BlockImage image, FixedFile file);
    Result<void> start(uint64_t tag, Operation& operation);
    void on_completion(uint64_t tag, int result);
    // A write-zeroes step finished: true when the next one is submitted, else `result` is final.
    bool continue_write_zeroes(uint64_t tag, Operation& operation, int& result);

    EventLoop& m_loop;
    BlockImage m_image;
    FixedFile m_file;
    BlockBackendEvents* m_events { nullptr };
    ZeroFill m_zero_fill { ZeroFill::FallocateFirst };
    std::unordered_map<uint64_t, Operation> m_operations; // nodes are stable: iovecs live here
    // The loop may run completions after the backend is gone: they hold a weak reference.
    OwnerCompletions<UringBlockBackend> m_completions { *this };
};

} // namespace husk
