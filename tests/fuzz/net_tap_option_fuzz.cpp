// libFuzzer target for parse_net_tap_option and parse_net_stream_option, husk-vmm's --net-tap
// and --net-stream values. A stream is an fd in range or an absolute path that fits sun_path,
// with no NUL. Properties checked on every input: an accepted value names a valid interface (1-15 bytes, no '/', ':', ',' or
// spaces), any MAC is unicast and not all-zero, every limit is a one-second bucket within the
// documented bounds; a refused one carries a message. Any violation aborts.
#include "runtime/main/net_tap_option.hpp"
#include "runtime/net/tap_device.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <algorithm>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    std::string_view text(reinterpret_cast<char const*>(data), size);
    if (auto stream = husk::parse_net_stream_option(text); stream) {
        require(stream->backend == husk::NetConfig::Backend::Stream);
        if (stream->stream_fd)
            require(*stream->stream_fd >= 0 && static_cast<uint64_t>(*stream->stream_fd) <= husk::max_net_stream_fd);
        else
            require(stream->stream_path.starts_with("/") && stream->stream_path.size() < husk::max_net_stream_path_length
                && stream->stream_path.find('\0') == std::string::npos);
    } else {
        require(!stream.error().message.empty());
    }
    auto config = husk::parse_net_tap_option(text);
    if (!config) {
        require(!config.error().message.empty());
        return 0;
    }
    require(husk::is_valid_interface_name(config->tap_name));
    require(config->tap_name.find(',') == std::string::npos);
    if (config->mac) {
        require(((*config->mac)[0] & 1) == 0);
        require(std::any_of(config->mac->begin(), config->mac->end(), [](uint8_t byte) { return byte != 0; }));
    }
    for (auto const* limit : { &config->rx_limit, &config->tx_limit }) {
        if (limit->bytes)
            require(limit->bytes->size >= 1 && limit->bytes->size <= husk::max_net_rate_bytes
                && limit->bytes->refill_time == std::chrono::seconds(1));
        if (limit->packets)
            require(limit->packets->size >= 1 && limit->packets->size <= husk::max_net_rate_packets);
    }
    return 0;
}
