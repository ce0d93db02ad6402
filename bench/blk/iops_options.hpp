// The command line of husk-blk-iops (bench/blk/blk_iops.cpp), parsed apart from main() so the
// unit tests and a fuzz target can feed it malformed arguments.
#pragma once

#include "runtime/base/result.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace husk::bench {

enum class DirectIo { On, Off };

struct IopsOptions {
    std::string device;
    DirectIo direct { DirectIo::On };
    std::vector<unsigned> depths; // one test per entry, in order; {1, 32} when none given
    double seconds { 5.0 }; // per test, unless count is set
    std::optional<uint64_t> count; // reads per test instead of a duration
    uint64_t seed { 1 };
};

// The largest queue depth: the AIO context holds this many iocbs.
inline constexpr unsigned max_queue_depth = 256;

// Parses argv[1..] (program name excluded). Errors name the offending argument.
Result<IopsOptions> parse_iops_options(std::span<std::string_view const> arguments);

inline constexpr std::string_view iops_usage
    = "usage: husk-blk-iops [--seconds S | --count N] [--qd N]... [--seed N] [--no-direct] DEVICE";

} // namespace husk::bench
