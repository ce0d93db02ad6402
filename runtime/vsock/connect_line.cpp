// CONNECT line parsing and the OK reply.
#include "runtime/vsock/connect_line.hpp"

namespace husk {

namespace {
    constexpr std::string_view connect_prefix = "CONNECT ";
    constexpr size_t max_port_digits = 10; // 4294967295
} // namespace

Result<uint32_t> parse_connect_line(std::string_view line)
{
    if (line.size() > max_connect_line)
        return fail("CONNECT line longer than " + std::to_string(max_connect_line) + " bytes");
    if (!line.starts_with(connect_prefix))
        return fail("handshake does not start with \"CONNECT \"");
    if (!line.ends_with('\n'))
        return fail("CONNECT line does not end with a newline");
    auto digits = line.substr(connect_prefix.size(), line.size() - connect_prefix.size() - 1);
    if (digits.empty() || digits.size() > max_port_digits)
        return fail("CONNECT port must have 1 to 10 digits");
    if (digits.size() > 1 && digits.front() == '0')
        return fail("CONNECT port has a leading zero");
    uint64_t port = 0;
    for (char digit : digits) {
        if (digit < '0' || digit > '9')
            return fail("CONNECT port contains a non-digit");
        port = port * 10 + static_cast<uint64_t>(digit - '0'); // ≤ 10 digits: no 64-bit overflow
    }
    if (port > UINT32_MAX)
        return fail("CONNECT port " + std::to_string(port) + " does not fit in 32 bits");
    return static_cast<uint32_t>(port);
}

std::string format_ok_line(uint32_t host_port) { return "OK " + std::to_string(host_port) + "\n"; }

} // namespace husk
