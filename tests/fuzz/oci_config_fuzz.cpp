// husk-oci's parsers of caller-supplied JSON: config.json, exec's process.json and the state.json
// records under --root, on arbitrary bytes. Any input must give a value or an error, never a crash,
// an exception or a hang; a parsed config must have the invariants `create` relies on.
#include "sdk/oci/container_state.hpp"
#include "sdk/oci/oci_config.hpp"
#include "sdk/oci/signal_name.hpp"

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    std::string_view text(reinterpret_cast<char const*>(data), size);
    if (auto config = husk::oci::parse_oci_config(text)) {
        if (config->process.args.empty() || config->process.args[0].empty() || config->process.cwd.empty()
            || config->process.cwd[0] != '/' || config->root_path.empty())
            abort();
    }
    if (auto process = husk::oci::parse_oci_process(text)) {
        if (process->args.empty())
            abort();
    }
    if (auto record = husk::oci::parse_record(text)) {
        if (record->pid < 0)
            abort();
        (void)husk::oci::oci_state_json(*record, record->status);
    }
    if (size < 64)
        (void)husk::oci::parse_signal(text);
    return 0;
}
