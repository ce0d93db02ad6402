// libFuzzer target for parse_connect_line, the first thing the VMM reads from any host process
// that connects to its vsock socket. Properties, checked on every input:
//   - an accepted line is exactly the canonical "CONNECT <port>\n" for the port it returned, and
//     format_ok_line(port) is "OK <port>\n";
//   - a line that is canonical for some 32-bit port is accepted (the parser is not stricter
//     than the convention).
// Any violation aborts, which libFuzzer reports as a crash.
#include "runtime/vsock/connect_line.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

std::string canonical_line(uint32_t port) { return "CONNECT " + std::to_string(port) + "\n"; }

// The port a canonical line would carry, found independently of the parser: the digits between
// the prefix and the newline, read with from_chars.
bool looks_canonical(std::string_view line)
{
    constexpr std::string_view prefix = "CONNECT ";
    if (line.size() < prefix.size() + 2 || !line.starts_with(prefix) || line.back() != '\n')
        return false;
    auto digits = line.substr(prefix.size(), line.size() - prefix.size() - 1);
    uint32_t port = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (error != std::errc() || end != digits.data() + digits.size())
        return false;
    return canonical_line(port) == line;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    std::string_view line(reinterpret_cast<char const*>(data), size);
    auto parsed = husk::parse_connect_line(line);
    if (parsed) {
        require(line == canonical_line(*parsed));
        require(husk::format_ok_line(*parsed) == "OK " + std::to_string(*parsed) + "\n");
    }
    if (looks_canonical(line))
        require(parsed.has_value());
    return 0;
}
