// MAC address parsing, printing and the random default.
#include "runtime/net/mac_address.hpp"

#include <algorithm>
#include <cstdio>
#include <sys/random.h>

namespace husk {

namespace {
    constexpr uint8_t multicast_bit = 0x01;
    constexpr uint8_t locally_administered_bit = 0x02;

    int hex_digit(char c)
    {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    }
} // namespace

Result<MacAddress> parse_mac_address(std::string_view text)
{
    constexpr size_t text_length = 6 * 3 - 1; // "xx:" five times, then "xx"
    auto malformed
        = [&] { return fail("MAC address '" + std::string(text) + "' is not six hex bytes like 02:00:00:00:00:01"); };
    if (text.size() != text_length)
        return malformed();
    MacAddress mac {};
    for (size_t index = 0; index < mac.size(); ++index) {
        size_t at = index * 3;
        int high = hex_digit(text[at]);
        int low = hex_digit(text[at + 1]);
        if (high < 0 || low < 0 || (index + 1 < mac.size() && text[at + 2] != ':'))
            return malformed();
        mac[index] = static_cast<uint8_t>(high << 4 | low);
    }
    if (mac[0] & multicast_bit)
        return fail("MAC address " + std::string(text) + " is a multicast address (low bit of the first byte set)");
    if (std::all_of(mac.begin(), mac.end(), [](uint8_t byte) { return byte == 0; }))
        return fail("MAC address 00:00:00:00:00:00 is not a valid address");
    return mac;
}

std::string format_mac_address(MacAddress const& mac)
{
    char text[18];
    std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return text;
}

Result<MacAddress> random_local_mac_address()
{
    MacAddress mac {};
    if (::getrandom(mac.data(), mac.size(), 0) != static_cast<ssize_t>(mac.size()))
        return fail_errno("getrandom for a MAC address");
    mac[0] = static_cast<uint8_t>((mac[0] & ~multicast_bit) | locally_administered_bit);
    return mac;
}

} // namespace husk
