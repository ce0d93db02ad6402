// VM ids and paths inside the jail come from the SDK's and CLI's callers: any bytes must be
// either refused or split into components that are safe single names.
#include "runtime/jail/jail_path.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    std::string_view text(reinterpret_cast<char const*>(data), size);
    (void)husk::validate_vm_id(text);
    auto components = husk::split_jail_path(text);
    if (components) {
        for (auto const& component : *components) {
            require(!component.empty() && component != "." && component != ".."
                && component.find('/') == std::string::npos && component.find('\0') == std::string::npos);
        }
    }
    return 0;
}
