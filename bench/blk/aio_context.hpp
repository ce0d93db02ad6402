// AioContext: an owned Linux native AIO context (io_setup / io_submit / io_getevents / io_destroy
// as raw system calls; the guest kernel has CONFIG_AIO but no io_uring, and the guest has no
// libaio). Used by husk-blk-iops for queue depths above one.
#pragma once

#include "runtime/base/result.hpp"

#include <linux/aio_abi.h>
#include <span>

namespace husk::bench {

class AioContext {
public:
    static Result<AioContext> create(unsigned max_events);
    AioContext(AioContext&& other) noexcept
        : m_context(std::exchange(other.m_context, 0))
    {
    }
    AioContext& operator=(AioContext&&) = delete;
    AioContext(AioContext const&) = delete;
    AioContext& operator=(AioContext const&) = delete;
    ~AioContext();

    // Submits every iocb (io_submit may take fewer per call; the rest are resubmitted).
    Result<void> submit_all(std::span<iocb*> iocbs);
    // Waits for at least `minimum` completions; returns how many were stored in `events`.
    Result<size_t> wait(size_t minimum, std::span<io_event> events);

private:
    explicit AioContext(aio_context_t context)
        : m_context(context)
    {
    }

    aio_context_t m_context { 0 };
};

} // namespace husk::bench
