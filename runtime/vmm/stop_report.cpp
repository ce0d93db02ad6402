// StopReport JSON serialisation with strict string escaping.
#include "runtime/vmm/stop_report.hpp"

#include <cstdio>

namespace husk {

namespace {
    constexpr std::string_view replacement_character = "\\ufffd";

    // Length of the valid UTF-8 sequence starting at text[0], or 0 when it is not valid (overlong
    // forms, surrogates and code points above U+10FFFF are invalid too).
    size_t valid_utf8_length(std::string_view text)
    {
        auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
        auto continuation = [&](size_t i) { return i < text.size() && (byte(i) & 0xc0) == 0x80; };
        uint8_t lead = byte(0);
        if (lead < 0x80)
            return 1;
        if (lead >= 0xc2 && lead <= 0xdf)
            return continuation(1) ? 2 : 0;
        if (lead >= 0xe0 && lead <= 0xef) {
            if (!continuation(1) || !continuation(2))
                return 0;
            if (lead == 0xe0 && byte(1) < 0xa0)
                return 0; // overlong
            if (lead == 0xed && byte(1) >= 0xa0)
                return 0; // UTF-16 surrogate
            return 3;
        }
        if (lead >= 0xf0 && lead <= 0xf4) {
            if (!continuation(1) || !continuation(2) || !continuation(3))
                return 0;
            if (lead == 0xf0 && byte(1) < 0x90)
                return 0; // overlong
            if (lead == 0xf4 && byte(1) >= 0x90)
                return 0; // above U+10FFFF
            return 4;
        }
        return 0;
    }

    void append_optional_microseconds(std::string& out, char const* key, std::optional<std::chrono::microseconds> value)
    {
        out += ",\"";
        out += key;
        out += "\":";
        out += value ? std::to_string(value->count()) : "null";
    }
} // namespace

void append_json_string(std::string& out, std::string_view text)
{
    out += '"';
    size_t i = 0;
    while (i < text.size()) {
        auto c = static_cast<uint8_t>(text[i]);
        switch (c) {
        case '"':
            out += "\\\"";
            ++i;
            continue;
        case '\\':
            out += "\\\\";
            ++i;
            continue;
        case '\n':
            out += "\\n";
            ++i;
            continue;
        case '\r':
            out += "\\r";
            ++i;
            continue;
        case '\t':
            out += "\\t";
            ++i;
            continue;
        default:
            break;
        }
        if (c < 0x20 || c == 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
            out += escaped;
            ++i;
            continue;
        }
        size_t length = valid_utf8_length(text.substr(i));
        if (length == 0) {
            out += replacement_character;
            ++i;
            continue;
        }
        out.append(text.substr(i, length));
        i += length;
    }
    out += '"';
}

char const* spawn_error_name(status_port::SpawnError error)
{
    switch (error) {
    case status_port::SpawnError::NotFound:
        return "not-found";
    case status_port::SpawnError::PermissionDenied:
        return "permission-denied";
    case status_port::SpawnError::NotExecutable:
        return "not-executable";
    case status_port::SpawnError::BadWorkingDirectory:
        return "bad-working-directory";
    case status_port::SpawnError::Other:
        return "other";
    }
    return "other";
}

std::string to_json(StopReport const& report)
{
    std::string out = "{\"stop_reason\":";
    append_json_string(out, stop_reason_name(report.reason));
    out += ",\"detail\":";
    append_json_string(out, report.detail);
    out += ",\"job\":";
    if (report.guest.exit_code)
        out += "{\"exit_code\":" + std::to_string(*report.guest.exit_code) + "}";
    else if (report.guest.signal)
        out += "{\"signal\":" + std::to_string(*report.guest.signal) + "}";
    else if (report.guest.spawn_error) {
        out += "{\"spawn_error\":";
        append_json_string(out, spawn_error_name(*report.guest.spawn_error));
        out += "}";
    } else
        out += "null";
    append_optional_microseconds(out, "setup_us", report.timings.setup);
    append_optional_microseconds(out, "boot_to_init_us", report.timings.boot_to_init);
    out += ",\"total_us\":" + std::to_string(report.timings.total.count());
    out += ",\"invalid_status_writes\":" + std::to_string(report.guest.invalid_writes);
    out += '}';
    return out;
}

} // namespace husk
