// Size and duration parsing: strict, so a typo ("25OM", "1.5G", "-1s") is an error with the
// reason, never a silently different value.
#include "husk/units.hpp"

#include "runtime/base/result.hpp"

#include <array>
#include <cctype>
#include <cstdio>
#include <limits>
#include <utility>

namespace husk::units {

namespace {

    std::string lower(std::string_view text)
    {
        std::string out(text);
        for (auto& c : out)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return out;
    }

    // Splits "256MiB" into 256 and "MiB". Only digits may precede the unit.
    Result<std::pair<uint64_t, std::string_view>> split_number(std::string_view text, char const* what)
    {
        if (text.empty())
            return fail(ErrorKind::BadConfig, std::string("empty ") + what);
        size_t digits = 0;
        uint64_t value = 0;
        while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
            uint64_t digit = static_cast<uint64_t>(text[digits] - '0');
            if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10)
                return fail(ErrorKind::BadConfig, std::string(what) + " too large: '" + std::string(text) + "'");
            value = value * 10 + digit;
            ++digits;
        }
        if (digits == 0)
            return fail(ErrorKind::BadConfig,
                std::string("invalid ") + what + " '" + std::string(text) + "': expected digits first");
        auto unit = text.substr(digits);
        if (!unit.empty() && (unit[0] == '.' || unit[0] == ','))
            return fail(ErrorKind::BadConfig,
                std::string("invalid ") + what + " '" + std::string(text)
                    + "': whole numbers only (use a smaller unit)");
        return std::pair { value, unit };
    }

    Result<uint64_t> scale(uint64_t value, uint64_t factor, std::string_view text, char const* what)
    {
        if (factor != 0 && value > std::numeric_limits<uint64_t>::max() / factor)
            return fail(ErrorKind::BadConfig, std::string(what) + " too large: '" + std::string(text) + "'");
        return value * factor;
    }

} // namespace

Result<uint64_t> parse_size(std::string_view text)
{
    auto [value, unit_text] = TRY(split_number(text, "size"));
    struct Unit {
        char const* name;
        uint64_t factor;
    };
    static constexpr std::array units { Unit { "", 1 }, Unit { "b", 1 }, Unit { "k", 1ull << 10 },
        Unit { "kb", 1ull << 10 }, Unit { "kib", 1ull << 10 }, Unit { "m", 1ull << 20 }, Unit { "mb", 1ull << 20 },
        Unit { "mib", 1ull << 20 }, Unit { "g", 1ull << 30 }, Unit { "gb", 1ull << 30 }, Unit { "gib", 1ull << 30 },
        Unit { "t", 1ull << 40 }, Unit { "tb", 1ull << 40 }, Unit { "tib", 1ull << 40 } };
    auto unit = lower(unit_text);
    for (auto const& candidate : units) {
        if (unit == candidate.name)
            return scale(value, candidate.factor, text, "size");
    }
    return fail(ErrorKind::BadConfig,
        "invalid size '" + std::string(text) + "': unknown unit '" + std::string(unit_text)
            + "' (use B, K, M, G or T)");
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text)
{
    auto [value, unit_text] = TRY(split_number(text, "duration"));
    uint64_t factor = 0;
    auto unit = lower(unit_text);
    if (unit == "ms")
        factor = 1;
    else if (unit.empty() || unit == "s")
        factor = 1000;
    else if (unit == "m")
        factor = 60'000;
    else if (unit == "h")
        factor = 3'600'000;
    else
        return fail(ErrorKind::BadConfig,
            "invalid duration '" + std::string(text) + "': unknown unit '" + std::string(unit_text)
                + "' (use ms, s, m or h)");
    auto millis = TRY(scale(value, factor, text, "duration"));
    if (millis > static_cast<uint64_t>(std::numeric_limits<std::chrono::milliseconds::rep>::max()))
        return fail(ErrorKind::BadConfig, "duration too large: '" + std::string(text) + "'");
    return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(millis));
}

std::string format_size(uint64_t bytes)
{
    static constexpr std::array names { "B", "KiB", "MiB", "GiB", "TiB" };
    size_t unit = 0;
    uint64_t whole = bytes;
    while (unit + 1 < names.size() && whole >= 1024) {
        whole /= 1024;
        ++unit;
    }
    if (unit == 0)
        return std::to_string(bytes) + " B";
    double value = static_cast<double>(bytes) / static_cast<double>(1ull << (10 * unit));
    char buffer[32];
    if (value == static_cast<double>(whole))
        std::snprintf(buffer, sizeof buffer, "%llu %s", static_cast<unsigned long long>(whole), names[unit]);
    else
        std::snprintf(buffer, sizeof buffer, "%.1f %s", value, names[unit]);
    return buffer;
}

} // namespace husk::units
