// The random-read loops of husk-blk-iops. Buffers are 4 KiB-aligned so O_DIRECT accepts them.
#include "bench/blk/random_reads.hpp"

#include "bench/blk/aio_context.hpp"

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <linux/fs.h>
#include <memory>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace husk::bench {

namespace {

    double now_seconds()
    {
        timespec now {};
        ::clock_gettime(CLOCK_MONOTONIC, &now);
        return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
    }

    struct FreeBuffer {
        void operator()(void* buffer) const { std::free(buffer); }
    };
    using AlignedBuffer = std::unique_ptr<uint8_t, FreeBuffer>;

    Result<AlignedBuffer> allocate_buffer(size_t size)
    {
        void* buffer = std::aligned_alloc(read_size, size);
        if (!buffer)
            return fail("cannot allocate " + std::to_string(size) + " bytes of read buffers");
        return AlignedBuffer(static_cast<uint8_t*>(buffer));
    }

    Unexpected<Error> read_failed(uint64_t offset, long result)
    {
        if (result < 0)
            return fail_errno("read at offset " + std::to_string(offset), static_cast<int>(-result));
        return fail("short read at offset " + std::to_string(offset) + ": " + std::to_string(result) + " of "
            + std::to_string(read_size) + " bytes");
    }

    // Queue depth one: one pread at a time.
    Result<ReadFigures> run_sync(ReadPlan const& plan, RandomBlocks& blocks)
    {
        auto buffer = TRY(allocate_buffer(read_size));
        ReadFigures figures;
        double start = now_seconds();
        double now = start;
        while (plan.count ? figures.ops < *plan.count : now - start < plan.seconds) {
            uint64_t offset = blocks.next_offset();
            ssize_t got = ::pread(plan.fd, buffer.get(), read_size, static_cast<off_t>(offset));
            if (got < 0 && errno == EINTR)
                continue;
            if (got != static_cast<ssize_t>(read_size))
                return read_failed(offset, got < 0 ? -errno : got);
            ++figures.ops;
            now = now_seconds();
        }
        figures.seconds = now - start;
        return figures;
    }

    // Deeper queues: keep `depth` reads in flight, refilling each slot as its read completes.
    Result<ReadFigures> run_aio(ReadPlan const& plan, RandomBlocks& blocks)
    {
        auto buffers = TRY(allocate_buffer(read_size * plan.depth));
        std::vector<iocb> slots(plan.depth);
        std::vector<iocb*> ready;
        std::vector<io_event> events(plan.depth);
        // Declared after the buffers: destroyed first, and io_destroy waits for reads in flight.
        auto context = TRY(AioContext::create(plan.depth));

        uint64_t submitted = 0;
        auto want_more = [&](double elapsed) { return plan.count ? submitted < *plan.count : elapsed < plan.seconds; };
        auto prepare = [&](size_t slot) {
            slots[slot] = iocb {};
            slots[slot].aio_data = slot;
            slots[slot].aio_lio_opcode = IOCB_CMD_PREAD;
            slots[slot].aio_fildes = static_cast<uint32_t>(plan.fd);
            slots[slot].aio_buf = reinterpret_cast<uintptr_t>(buffers.get() + slot * read_size);
            slots[slot].aio_nbytes = read_size;
            slots[slot].aio_offset = static_cast<int64_t>(blocks.next_offset());
            ready.push_back(&slots[slot]);
            ++submitted;
        };

        ReadFigures figures;
        double start = now_seconds();
        double now = start;
        for (size_t slot = 0; slot < plan.depth && want_more(0); ++slot)
            prepare(slot);
        uint64_t in_flight = 0;
        while (!ready.empty() || in_flight > 0) {
            TRY(context.submit_all(ready));
            in_flight += ready.size();
            ready.clear();
            size_t got = TRY(context.wait(1, events));
            now = now_seconds();
            for (size_t i = 0; i < got; ++i) {
                auto slot = static_cast<size_t>(events[i].data);
                --in_flight;
                if (events[i].res != static_cast<int64_t>(read_size))
                    return read_failed(static_cast<uint64_t>(slots[slot].aio_offset), static_cast<long>(events[i].res));
                ++figures.ops;
                if (want_more(now - start))
                    prepare(slot);
            }
        }
        figures.seconds = now - start;
        return figures;
    }

} // namespace

uint64_t RandomBlocks::next_offset()
{
    m_state += 0x9e3779b97f4a7c15ULL;
    uint64_t mixed = m_state;
    mixed = (mixed ^ (mixed >> 30)) * 0xbf58476d1ce4e5b9ULL;
    mixed = (mixed ^ (mixed >> 27)) * 0x94d049bb133111ebULL;
    mixed ^= mixed >> 31;
    return (mixed % m_block_count) * read_size; // the modulo bias is far below the noise
}

Result<ReadFigures> run_random_reads(ReadPlan const& plan)
{
    if (plan.block_count == 0)
        return fail("the device is smaller than one " + std::to_string(read_size) + "-byte block");
    RandomBlocks blocks(plan.seed, plan.block_count);
    return plan.depth <= 1 ? run_sync(plan, blocks) : run_aio(plan, blocks);
}

Result<uint64_t> device_size_bytes(int fd)
{
    struct stat status { };
    if (::fstat(fd, &status) < 0)
        return fail_errno("fstat");
    if (S_ISREG(status.st_mode))
        return static_cast<uint64_t>(status.st_size);
    if (!S_ISBLK(status.st_mode))
        return fail("not a block device or regular file");
    uint64_t size = 0;
    if (::ioctl(fd, BLKGETSIZE64, &size) < 0)
        return fail_errno("BLKGETSIZE64");
    return size;
}

} // namespace husk::bench
