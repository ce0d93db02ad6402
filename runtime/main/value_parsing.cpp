// Size, duration and integer parsing for husk-vmm options.
#include "runtime/main/value_parsing.hpp"

#include <string>

namespace husk {

namespace {
    constexpr uint64_t page_size = 4096;

    struct Number {
        uint64_t value { 0 };
        std::string_view rest; // what follows the digits
    };

    // Leading decimal digits, overflow-checked. Errors name the whole original text.
    Result<Number> leading_number(std::string_view text, char const* what)
    {
        if (text.empty())
            return fail(std::string("empty ") + what);
        size_t digits = 0;
        uint64_t value = 0;
        while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
            uint64_t digit = static_cast<uint64_t>(text[digits] - '0');
            if (value > (UINT64_MAX - digit) / 10)
                return fail(std::string(what) + " '" + std::string(text) + "' is too large");
            value = value * 10 + digit;
            ++digits;
        }
        if (digits == 0)
            return fail(std::string(what) + " '" + std::string(text) + "' does not start with a decimal number");
        return Number { value, text.substr(digits) };
    }

    char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
} // namespace

Result<uint64_t> parse_size(std::string_view text)
{
    auto number = TRY(leading_number(text, "size"));
    unsigned shift = 0;
    if (number.rest.size() > 1)
        return fail("size '" + std::string(text) + "' has an unknown suffix (use K, M, G or T)");
    if (number.rest.size() == 1) {
        switch (lower(number.rest[0])) {
        case 'k':
            shift = 10;
            break;
        case 'm':
            shift = 20;
            break;
        case 'g':
            shift = 30;
            break;
        case 't':
            shift = 40;
            break;
        default:
            return fail("size '" + std::string(text) + "' has an unknown suffix (use K, M, G or T)");
        }
    }
    if (number.value == 0)
        return fail("size '" + std::string(text) + "' is zero");
    if (number.value > (UINT64_MAX >> shift))
        return fail("size '" + std::string(text) + "' is too large");
    uint64_t bytes = number.value << shift;
    if (bytes % page_size != 0)
        return fail("size '" + std::string(text) + "' is not a multiple of 4 KiB");
    return bytes;
}

Result<uint64_t> parse_memory_size(std::string_view text)
{
    uint64_t bytes = TRY(parse_size(text));
    if (bytes < min_memory_bytes)
        return fail("memory size '" + std::string(text) + "' is below the minimum of 32M");
    if (bytes > max_memory_bytes)
        return fail("memory size '" + std::string(text) + "' is above the maximum of 64G");
    return bytes;
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text)
{
    auto number = TRY(leading_number(text, "duration"));
    uint64_t milliseconds_per_unit = 0;
    if (number.rest.empty() || number.rest == "s")
        milliseconds_per_unit = 1000;
    else if (number.rest == "ms")
        milliseconds_per_unit = 1;
    else if (number.rest == "m")
        milliseconds_per_unit = 60 * 1000;
    else if (number.rest == "h")
        milliseconds_per_unit = 60 * 60 * 1000;
    else
        return fail("duration '" + std::string(text) + "' has an unknown unit (use ms, s, m or h)");
    if (number.value == 0)
        return fail("duration '" + std::string(text) + "' is zero");
    // chrono::milliseconds is signed 64-bit: stay below INT64_MAX.
    if (number.value > static_cast<uint64_t>(INT64_MAX) / milliseconds_per_unit)
        return fail("duration '" + std::string(text) + "' is too large");
    return std::chrono::milliseconds(static_cast<int64_t>(number.value * milliseconds_per_unit));
}

Result<uint64_t> parse_bounded_integer(std::string_view text, uint64_t minimum, uint64_t maximum)
{
    auto number = TRY(leading_number(text, "number"));
    if (!number.rest.empty())
        return fail("'" + std::string(text) + "' is not a decimal number");
    if (number.value < minimum || number.value > maximum)
        return fail(
            "'" + std::string(text) + "' is out of range " + std::to_string(minimum) + ".." + std::to_string(maximum));
    return number.value;
}

} // namespace husk
