// husk-vmm's control socket command lines (runtime/vmm/control_command.hpp) and the SDK's reading
// of the replies (sdk/src/vmm_control.cpp): any bytes either parse or are refused with one
// printable line.
#include "runtime/vmm/control_command.hpp"
#include "sdk/src/vmm_control.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {
bool printable_line(std::string const& text)
{
    for (char c : text) {
        if (c == '\n')
            return false;
    }
    return true;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    std::string_view text(reinterpret_cast<char const*>(data), size);
    auto command = husk::parse_control_line(text);
    if (!command) {
        require(printable_line(command.error().message));
        for (char c : command.error().message)
            require(c >= 0x20 && c < 0x7f);
    } else {
        require(husk::control_command_fds(*command) <= husk::snapshot_command_fds);
    }
    auto reply = husk::detail::parse_control_reply(text, husk::ErrorKind::Other);
    if (reply)
        require(text.starts_with("OK"));
    return 0;
}
