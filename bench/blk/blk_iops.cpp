// husk-blk-iops: a static guest tool for bench/blk (never part of the product initramfs). Reads
// 4 KiB blocks at random aligned offsets over a whole block device, with O_DIRECT unless
// --no-direct, once per requested queue depth, and prints one line per test:
//   iops qd=32 ops=N seconds=S iops=X
// Exit 0 on success, 1 when a test fails (I/O error, short read), 2 on bad arguments; every
// failure is one line on stderr.
#include "bench/blk/iops_options.hpp"
#include "bench/blk/random_reads.hpp"
#include "runtime/base/fd.hpp"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>

using namespace husk;
using namespace husk::bench;

namespace {

constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

int fail_with(int code, std::string const& message)
{
    std::fprintf(stderr, "husk-blk-iops: %s\n", message.c_str());
    return code;
}

Result<Fd> open_device(IopsOptions const& options)
{
    int flags = O_RDONLY | O_CLOEXEC | (options.direct == DirectIo::On ? O_DIRECT : 0);
    auto fd = Fd::open(options.device, flags);
    if (!fd && fd.error().errno_value == EINVAL && options.direct == DirectIo::On)
        return fail(fd.error().message + " (O_DIRECT refused here; --no-direct reads through the page cache)");
    return fd;
}

} // namespace

int main(int argc, char** argv)
{
    std::vector<std::string_view> arguments(argv + 1, argv + argc);
    auto options = parse_iops_options(arguments);
    if (!options)
        return fail_with(exit_usage, options.error().message + " (" + std::string(iops_usage) + ")");

    auto fd = open_device(*options);
    if (!fd)
        return fail_with(exit_failure, fd.error().message);
    auto size = device_size_bytes(fd->get());
    if (!size)
        return fail_with(exit_failure, options->device + ": " + size.error().message);

    for (unsigned depth : options->depths) {
        ReadPlan plan { fd->get(), *size / read_size, depth, options->count, options->seconds, options->seed };
        auto figures = run_random_reads(plan);
        if (!figures)
            return fail_with(
                exit_failure, options->device + " qd=" + std::to_string(depth) + ": " + figures.error().message);
        double iops = figures->seconds > 0 ? static_cast<double>(figures->ops) / figures->seconds : 0;
        std::printf("iops qd=%u ops=%llu seconds=%.3f iops=%.0f\n", depth,
            static_cast<unsigned long long>(figures->ops), figures->seconds, iops);
        std::fflush(stdout);
    }
    return 0;
}
