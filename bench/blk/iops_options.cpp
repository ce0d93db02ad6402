// Parses husk-blk-iops's arguments strictly: unknown flags, missing values, trailing garbage in
// numbers and out-of-range values are errors, never defaults.
#include "bench/blk/iops_options.hpp"

#include <charconv>
#include <cmath>

namespace husk::bench {

namespace {

    template<typename Number>
    Result<Number> parse_number(std::string_view flag, std::string_view text)
    {
        Number value {};
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || error != std::errc() || end != text.data() + text.size())
            return fail(std::string(flag) + ": '" + std::string(text) + "' is not a number");
        return value;
    }

} // namespace

Result<IopsOptions> parse_iops_options(std::span<std::string_view const> arguments)
{
    IopsOptions options;
    bool seconds_given = false;
    for (size_t i = 0; i < arguments.size(); ++i) {
        auto argument = arguments[i];
        auto value = [&]() -> Result<std::string_view> {
            if (i + 1 >= arguments.size())
                return fail(std::string(argument) + " needs a value");
            return arguments[++i];
        };
        if (argument == "--no-direct") {
            options.direct = DirectIo::Off;
        } else if (argument == "--seconds") {
            auto seconds = TRY(parse_number<double>(argument, TRY(value())));
            if (!std::isfinite(seconds) || seconds <= 0 || seconds > 3600)
                return fail("--seconds must be above 0 and at most 3600");
            options.seconds = seconds;
            seconds_given = true;
        } else if (argument == "--count") {
            auto count = TRY(parse_number<uint64_t>(argument, TRY(value())));
            if (count == 0)
                return fail("--count must be at least 1");
            options.count = count;
        } else if (argument == "--qd") {
            auto depth = TRY(parse_number<unsigned>(argument, TRY(value())));
            if (depth == 0 || depth > max_queue_depth)
                return fail("--qd must be between 1 and " + std::to_string(max_queue_depth));
            options.depths.push_back(depth);
        } else if (argument == "--seed") {
            options.seed = TRY(parse_number<uint64_t>(argument, TRY(value())));
        } else if (argument.starts_with("-")) {
            return fail("unknown option '" + std::string(argument) + "'");
        } else if (!options.device.empty()) {
            return fail("more than one device: '" + options.device + "' and '" + std::string(argument) + "'");
        } else {
            options.device = std::string(argument);
        }
    }
    if (options.device.empty())
        return fail("no device given");
    if (seconds_given && options.count)
        return fail("--seconds and --count exclude each other");
    if (options.depths.empty())
        options.depths = { 1, 32 };
    return options;
}

} // namespace husk::bench
