// husk-vmm's --net-tap and --net-stream values. --net-tap: `NAME[,mac=XX:XX:XX:XX:XX:XX]
// [,rx-bytes=RATE][,tx-bytes=RATE][,rx-pps=N][,tx-pps=N]`. RATE is bytes per second with an optional binary suffix K, M or G;
// each limit is a token bucket holding one second's worth (Firecracker's semantics, see
// virtio/net/token_bucket.hpp). Pure parsing, so every rejection is unit-tested and fuzzed.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/vmm/machine_config.hpp"

#include <string_view>

namespace husk {

// Bounds of the limits: at least 1, at most 1 TiB/s and a billion frames per second.
inline constexpr uint64_t max_net_rate_bytes = 1ull << 40;
inline constexpr uint64_t max_net_rate_packets = 1'000'000'000;

Result<NetConfig> parse_net_tap_option(std::string_view text);

// husk-vmm's --net-stream value: `fd=N|PATH` and then the same settings as --net-tap. fd=N is an
// inherited connected unix stream socket, PATH one to connect to (sun_path's limit).
inline constexpr uint64_t max_net_stream_fd = 1 << 20;
inline constexpr size_t max_net_stream_path_length = 108;
Result<NetConfig> parse_net_stream_option(std::string_view text);

} // namespace husk
