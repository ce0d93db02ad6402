// JSON rendering of run results: hand-written, flat, no dependency.
#include "sdk/cli/json_result.hpp"

#include <cstdio>

namespace husk::cli {

namespace {

    bool is_valid_utf8(std::string_view text)
    {
        size_t i = 0;
        while (i < text.size()) {
            auto byte = static_cast<unsigned char>(text[i]);
            size_t length = byte < 0x80 ? 1
                : (byte >> 5) == 0x6    ? 2
                : (byte >> 4) == 0xe    ? 3
                : (byte >> 3) == 0x1e   ? 4
                                        : 0;
            if (length == 0 || i + length > text.size())
                return false;
            for (size_t k = 1; k < length; ++k) {
                if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80)
                    return false;
            }
            i += length;
        }
        return true;
    }

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

    std::string millis(std::chrono::microseconds duration)
    {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.3f", static_cast<double>(duration.count()) / 1000.0);
        return buffer;
    }

    char const* boolean(bool value) { return value ? "true" : "false"; }

    void add_stream(std::string& json, char const* name, std::string_view data, bool truncated)
    {
        bool valid = true;
        json += std::string(",\"") + name + "\":" + json_string(data, valid);
        if (!valid)
            json += std::string(",\"") + name + "_encoding\":\"latin1\"";
        json += std::string(",\"") + name + "_truncated\":" + boolean(truncated);
    }

} // namespace

std::string json_string(std::string_view bytes, bool& was_valid_utf8)
{
    was_valid_utf8 = is_valid_utf8(bytes);
    std::string out = "\"";
    for (char c : bytes) {
        auto byte = static_cast<unsigned char>(c);
        char escape[8];
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (byte < 0x20 || byte == 0x7f || (byte >= 0x80 && !was_valid_utf8)) {
            std::snprintf(escape, sizeof escape, "\\u%04x", byte);
            out += escape;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string result_json(RunResult const& result, int exit_status, std::chrono::milliseconds boot_time)
{
    std::string json
        = "{\"exit_status\":" + std::to_string(exit_status) + ",\"status\":\"" + status_name(result.status) + "\"";
    if (result.status == RunStatus::Exited)
        json += ",\"exit_code\":" + std::to_string(result.exit_code);
    if (result.signal != 0)
        json += ",\"signal\":" + std::to_string(result.signal);
    json += std::string(",\"timed_out\":") + boolean(result.timed_out());
    if (result.status == RunStatus::SpawnFailed) {
        bool valid;
        json += ",\"spawn_error\":" + json_string(result.spawn_message, valid);
    }
    add_stream(json, "stdout", result.stdout_data, result.stdout_truncated);
    add_stream(json, "stderr", result.stderr_data, result.stderr_truncated);
    json += ",\"boot_ms\":" + std::to_string(boot_time.count());
    json += ",\"guest_duration_ms\":" + millis(result.guest_duration);
    json += ",\"wall_duration_ms\":" + millis(result.wall_duration);
    return json + "}";
}

std::string error_json(Error const& error, int exit_status)
{
    bool valid;
    return "{\"exit_status\":" + std::to_string(exit_status) + ",\"error\":{\"kind\":\""
        + std::string(error_kind_name(error.kind)) + "\",\"message\":" + json_string(error.message, valid) + "}}";
}

} // namespace husk::cli
