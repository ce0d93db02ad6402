// SyncBlockBackend: a BlockBackend on plain system calls (preadv, pwritev, fdatasync, fallocate),
// finishing every operation inside submit(). The fallback where io_uring is unavailable (sysctl
// kernel.io_uring_disabled, a seccomp'd container, an old kernel): correct but it blocks the
// event thread for the length of each operation. Write-zeroes falls back to writing zeroes where
// the filesystem has no FALLOC_FL_ZERO_RANGE (see ZeroFill).
#pragma once

#include "runtime/block/block_image.hpp"
#include "runtime/block/block_io_helpers.hpp"
#include "virtio/block/block_backend.hpp"

namespace husk {

class SyncBlockBackend final : public BlockBackend {
public:
    explicit SyncBlockBackend(BlockImage image)
        : m_image(std::move(image))
    {
    }

    void set_events(BlockBackendEvents*) override { } // every result comes back from submit()
    uint64_t size_bytes() const override { return m_image.size_bytes(); }
    bool is_read_only() const override { return m_image.is_read_only(); }
    bool supports_discard() const override { return !m_image.is_read_only(); }
    std::string_view id() const override { return m_image.id(); }
    Result<std::optional<BlockResult>> submit(uint64_t tag, BlockIo const& io) override;

    void set_zero_fill(ZeroFill mode) { m_zero_fill = mode; }

private:
    BlockResult transfer(BlockIo const& io);
    BlockResult write_zeroes(BlockIo const& io);

    BlockImage m_image;
    ZeroFill m_zero_fill { ZeroFill::FallocateFirst };
};

} // namespace husk
