// The one JSON object `husk run --json` prints: the result (or the error) with the job's output
// as JSON strings. Output that is not valid UTF-8 is escaped byte by byte as \u00XX (so the
// object stays valid JSON) and flagged with "<stream>_encoding": "latin1".
#pragma once

#include "husk/error.hpp"
#include "husk/run_result.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace husk::cli {

// A JSON string literal (with the quotes). Bytes of invalid UTF-8 become \u00XX.
std::string json_string(std::string_view bytes, bool& was_valid_utf8);

std::string result_json(RunResult const& result, int exit_status, std::chrono::milliseconds boot_time);
std::string error_json(Error const& error, int exit_status);

} // namespace husk::cli
