// Strict dotted-quad and CIDR parsing.
#include "runtime/net/ipv4.hpp"

#include <charconv>

namespace husk {

namespace {
    Result<uint32_t> parse_decimal(std::string_view text, uint32_t max, std::string_view what)
    {
        if (text.empty() || text.size() > 3)
            return fail(
                std::string(what) + " \"" + std::string(text) + "\" is not a number from 0 to " + std::to_string(max));
        if (text.size() > 1 && text[0] == '0')
            return fail(std::string(what) + " \"" + std::string(text) + "\" has a leading zero");
        uint32_t value = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc {} || end != text.data() + text.size() || value > max)
            return fail(
                std::string(what) + " \"" + std::string(text) + "\" is not a number from 0 to " + std::to_string(max));
        return value;
    }
} // namespace

bool Ipv4Cidr::overlaps(Ipv4Cidr const& other) const
{
    return prefix <= other.prefix ? contains(other.address) : other.contains(address);
}

Result<Ipv4Address> parse_ipv4_address(std::string_view text)
{
    uint32_t value = 0;
    std::string_view rest = text;
    for (int part = 0; part < 4; ++part) {
        auto dot = rest.find('.');
        if ((part < 3) == (dot == std::string_view::npos))
            return fail("\"" + std::string(text) + "\" is not an IPv4 address (a.b.c.d)");
        auto octet = TRY_CONTEXT(parse_decimal(rest.substr(0, dot), 255, "part"), "\"" + std::string(text) + "\"");
        value = (value << 8) | octet;
        rest = dot == std::string_view::npos ? std::string_view {} : rest.substr(dot + 1);
    }
    return Ipv4Address { value };
}

Result<Ipv4Cidr> parse_ipv4_cidr(std::string_view text)
{
    auto slash = text.find('/');
    auto address = TRY(parse_ipv4_address(text.substr(0, slash)));
    Ipv4Cidr cidr { address, 32 };
    if (slash != std::string_view::npos)
        cidr.prefix = TRY_CONTEXT(parse_decimal(text.substr(slash + 1), 32, "prefix"), "\"" + std::string(text) + "\"");
    if ((address.value & cidr.mask()) != address.value)
        return fail("\"" + std::string(text) + "\" has host bits set (did you mean "
            + to_string(Ipv4Cidr { Ipv4Address { address.value & cidr.mask() }, cidr.prefix }) + "?)");
    return cidr;
}

std::string to_string(Ipv4Address address)
{
    auto v = address.value;
    return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 0xff) + "." + std::to_string((v >> 8) & 0xff)
        + "." + std::to_string(v & 0xff);
}

std::string to_string(Ipv4Cidr const& cidr) { return to_string(cidr.address) + "/" + std::to_string(cidr.prefix); }

} // namespace husk
