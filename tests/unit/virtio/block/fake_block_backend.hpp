// FakeBlockBackend: an in-memory disk for BlockDevice tests. In Deferred mode it holds every
// operation until the test completes it (in any order); in Immediate mode submit() finishes it,
// like the synchronous backend. It records what it was asked to do.
#pragma once

#include "virtio/block/block_backend.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

namespace husk {

class FakeBlockBackend final : public BlockBackend {
public:
    enum class Mode { Immediate, Deferred };

    explicit FakeBlockBackend(uint64_t size, Mode mode = Mode::Immediate, bool read_only = false)
        : disk(size, 0)
        , m_mode(mode)
        , m_read_only(read_only)
    {
    }

    void set_events(BlockBackendEvents* events) override { m_events = events; }
    uint64_t size_bytes() const override { return disk.size(); }
    bool is_read_only() const override { return m_read_only; }
    bool supports_discard() const override { return true; }
    std::string_view id() const override { return "fake-disk-0123456789-and-more"; }

    Result<std::optional<BlockResult>> submit(uint64_t tag, BlockIo const& io) override
    {
        operations.push_back(io.operation);
        if (refuse_submit)
            return fail("refused (test)");
        Pending pending { io, { io.buffers.begin(), io.buffers.end() } };
        if (m_mode == Mode::Immediate)
            return std::optional<BlockResult>(perform(pending));
        m_pending.emplace(tag, std::move(pending));
        return std::optional<BlockResult>();
    }

    std::vector<uint64_t> pending_tags() const
    {
        std::vector<uint64_t> tags;
        for (auto const& [tag, pending] : m_pending)
            tags.push_back(tag);
        return tags;
    }
    // Carries out a deferred operation and reports it (or reports `forced` without doing it).
    void complete(uint64_t tag, std::optional<BlockResult> forced = std::nullopt)
    {
        auto pending = m_pending.at(tag);
        m_pending.erase(tag);
        auto result = forced ? *forced : perform(pending);
        if (m_events)
            m_events->on_block_complete(tag, result);
    }

    std::vector<uint8_t> disk;
    std::vector<BlockOperation> operations;
    std::vector<std::pair<uint64_t, uint64_t>> discarded; // offset, length
    bool refuse_submit { false };
    std::optional<BlockResult> next_result; // overrides the next performed operation's result

private:
    struct Pending {
        BlockIo io;
        std::vector<iovec> buffers;
    };

    BlockResult perform(Pending const& pending)
    {
        if (next_result) {
            auto result = *next_result;
            next_result.reset();
            return result;
        }
        auto const& io = pending.io;
        uint64_t position = io.offset;
        switch (io.operation) {
        case BlockOperation::Read:
        case BlockOperation::Write:
            for (auto const& buffer : pending.buffers) {
                if (io.operation == BlockOperation::Read)
                    std::memcpy(buffer.iov_base, disk.data() + position, buffer.iov_len);
                else
                    std::memcpy(disk.data() + position, buffer.iov_base, buffer.iov_len);
                position += buffer.iov_len;
            }
            return static_cast<BlockResult>(position - io.offset);
        case BlockOperation::Flush:
            return 0;
        case BlockOperation::Discard:
        case BlockOperation::WriteZeroes:
            discarded.emplace_back(io.offset, io.length);
            std::fill_n(disk.begin() + static_cast<ptrdiff_t>(io.offset), io.length, 0);
            return 0;
        }
        return -EINVAL;
    }

    Mode m_mode;
    bool m_read_only;
    BlockBackendEvents* m_events { nullptr };
    std::map<uint64_t, Pending> m_pending;
};

} // namespace husk
