// The hybrid-vsock handshake lines (the Firecracker convention): a host client connecting to the
// VMM's unix socket writes `CONNECT <guest port>\n`; once the guest accepts, the VMM answers
// `OK <host port>\n` and the socket carries the stream from then on. The client is another
// process on the host, so the line is parsed strictly and anything unexpected is refused.
#pragma once

#include "runtime/base/result.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace husk {

// Longest CONNECT line accepted, newline included ("CONNECT 4294967295\n" is 19 bytes). A
// client that has sent this many bytes without a newline is refused.
inline constexpr size_t max_connect_line = 32;

// Parses one whole line, '\n' included: exactly "CONNECT", one space, a decimal port without
// sign or leading zeros (0 itself is "0") that fits in 32 bits, and '\n'. Nothing else: no '\r',
// no extra spaces, no trailing bytes.
Result<uint32_t> parse_connect_line(std::string_view line);

// "OK <host_port>\n".
std::string format_ok_line(uint32_t host_port);

} // namespace husk
