// The hybrid-vsock reply line the SDK reads from a VMM socket (sdk/src/hybrid_vsock.cpp): any
// bytes must parse to a port or a clean error, and a parsed port must print back to the line.
#include "sdk/src/hybrid_vsock.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    std::string_view line(reinterpret_cast<char const*>(data), size);
    auto port = husk::detail::parse_connect_reply(line);
    if (port) {
        // Leading zeros are accepted, so compare numerically.
        auto digits = std::string(line.substr(3, line.size() - 4));
        require(std::strtoull(digits.c_str(), nullptr, 10) == *port);
    }
    return 0;
}
