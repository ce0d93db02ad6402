// JSON rendering of run results with nlohmann-json: one ASCII line per object.
#include "sdk/cli/json_result.hpp"

#include <nlohmann/json.hpp>

namespace husk::cli {

namespace {

    using Json = nlohmann::ordered_json; // keys in the documented order, for people reading it

    std::string status_name(RunStatus status)
    {
        switch (status) {
        case RunStatus::Exited:
            return "exited";
        case RunStatus::Signaled:
            return "signaled";
        case RunStatus::TimedOut:
            return "timed-out";
        case RunStatus::SpawnFailed:
            return "spawn-failed";
        }
        return "unknown";
    }

    double millis(std::chrono::microseconds duration) { return static_cast<double>(duration.count()) / 1000.0; }

    // Output that is not UTF-8 is carried byte for byte as the code points U+0000-U+00FF (each
    // byte read as Latin-1) and flagged, so a reader can get the exact bytes back.
    void add_stream(Json& json, std::string const& name, std::string_view data, bool truncated)
    {
        bool valid = is_valid_utf8(data);
        json[name] = valid ? std::string(data) : latin1_to_utf8(data);
        if (!valid)
            json[name + "_encoding"] = "latin1";
        json[name + "_truncated"] = truncated;
    }

    std::string dump(Json const& json)
    {
        // ASCII only: a terminal or log never sees raw control or non-ASCII bytes.
        return json.dump(-1, ' ', true, Json::error_handler_t::replace);
    }

} // namespace

bool is_valid_utf8(std::string_view text)
{
    // Strict (RFC 3629): no overlong forms, no UTF-16 surrogates, nothing above U+10FFFF, so
    // the JSON writer never has to replace anything in a stream called valid.
    auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
    size_t i = 0;
    while (i < text.size()) {
        unsigned char lead = byte(i);
        size_t length = lead < 0x80        ? 1
            : lead >= 0xc2 && lead <= 0xdf ? 2
            : lead >= 0xe0 && lead <= 0xef ? 3
            : lead >= 0xf0 && lead <= 0xf4 ? 4
                                           : 0;
        if (length == 0 || i + length > text.size())
            return false;
        for (size_t k = 1; k < length; ++k) {
            if ((byte(i + k) & 0xc0) != 0x80)
                return false;
        }
        if ((lead == 0xe0 && byte(i + 1) < 0xa0) || (lead == 0xf0 && byte(i + 1) < 0x90))
            return false; // overlong
        if (lead == 0xed && byte(i + 1) >= 0xa0)
            return false; // UTF-16 surrogate
        if (lead == 0xf4 && byte(i + 1) >= 0x90)
            return false; // above U+10FFFF
        i += length;
    }
    return true;
}

std::string latin1_to_utf8(std::string_view bytes)
{
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char c : bytes) {
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x80) {
            out += c;
        } else {
            out += static_cast<char>(0xc0 | (byte >> 6));
            out += static_cast<char>(0x80 | (byte & 0x3f));
        }
    }
    return out;
}

std::string result_json(RunResult const& result, int exit_status, std::chrono::milliseconds boot_time)
{
    Json json;
    json["exit_status"] = exit_status;
    json["status"] = status_name(result.status);
    if (result.status == RunStatus::Exited)
        json["exit_code"] = result.exit_code;
    if (result.signal != 0)
        json["signal"] = result.signal;
    json["timed_out"] = result.timed_out();
    if (result.status == RunStatus::SpawnFailed)
        json["spawn_error"] = result.spawn_message;
    add_stream(json, "stdout", result.stdout_data, result.stdout_truncated);
    add_stream(json, "stderr", result.stderr_data, result.stderr_truncated);
    json["boot_ms"] = boot_time.count();
    json["guest_duration_ms"] = millis(result.guest_duration);
    json["wall_duration_ms"] = millis(result.wall_duration);
    return dump(json);
}

std::string error_json(Error const& error, int exit_status)
{
    Json json;
    json["exit_status"] = exit_status;
    json["error"] = { { "kind", std::string(error_kind_name(error.kind)) }, { "message", error.message } };
    return dump(json);
}

} // namespace husk::cli
