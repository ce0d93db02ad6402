// The one JSON object `husk run --json` prints: the result (or the error) with the job's output
// as JSON strings, on one ASCII line. Output that is not valid UTF-8 is carried byte by byte as
// \u0000-\u00ff (each byte read as Latin-1, so the object stays valid JSON and the bytes can be
// recovered) and flagged with "<stream>_encoding": "latin1".
#pragma once

#include "husk/error.hpp"
#include "husk/run_result.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace husk::cli {

bool is_valid_utf8(std::string_view text);
// Each byte as the code point of the same value (Latin-1), encoded as UTF-8.
std::string latin1_to_utf8(std::string_view bytes);

std::string result_json(RunResult const& result, int exit_status, std::chrono::milliseconds boot_time);
std::string error_json(Error const& error, int exit_status);

} // namespace husk::cli
