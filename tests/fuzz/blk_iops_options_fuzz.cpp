// libFuzzer target for parse_iops_options, husk-blk-iops's command line. The input is split at
// NUL bytes into arguments. Properties, checked on every input:
//   - an accepted command line names one device, at least one queue depth, each within
//     1..max_queue_depth, and either a positive finite duration or a positive count;
//   - a refused one carries a message.
// Any violation aborts, which libFuzzer reports as a crash.
#include "bench/blk/iops_options.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace {

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    std::string_view input(reinterpret_cast<char const*>(data), size);
    std::vector<std::string_view> arguments;
    while (!input.empty()) {
        auto end = input.find('\0');
        arguments.push_back(input.substr(0, end));
        input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    }
    auto options = husk::bench::parse_iops_options(arguments);
    if (!options) {
        require(!options.error().message.empty());
        return 0;
    }
    require(!options->device.empty());
    require(!options->depths.empty());
    for (unsigned depth : options->depths)
        require(depth >= 1 && depth <= husk::bench::max_queue_depth);
    require(options->count ? *options->count > 0 : std::isfinite(options->seconds) && options->seconds > 0);
    return 0;
}
