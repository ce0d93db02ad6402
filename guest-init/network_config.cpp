// husk.ip / husk.gw / husk.dns parsing and the checks on the addresses.
#include "guest-init/network_config.hpp"

#include <algorithm>

namespace husk::init {

namespace {
    uint32_t as_number(Ipv4Address const& address)
    {
        return uint32_t { address[0] } << 24 | uint32_t { address[1] } << 16 | uint32_t { address[2] } << 8
            | address[3];
    }

    uint32_t mask_of(unsigned prefix_length)
    {
        return prefix_length == 0 ? 0 : ~uint32_t { 0 } << (32 - prefix_length);
    }

    // Why `address` cannot be a host's own address or a next hop, if it cannot.
    std::optional<std::string_view> unusable(Ipv4Address const& address)
    {
        if (as_number(address) == 0)
            return "the unspecified address";
        if (address[0] == 127)
            return "a loopback address";
        if (address[0] >= 224 && address[0] <= 239)
            return "a multicast address";
        if (address[0] >= 240)
            return "a reserved or broadcast address";
        if (address[0] == 0)
            return "in 0.0.0.0/8";
        return std::nullopt;
    }

    Result<Ipv4Address> checked_address(std::string_view parameter, std::string_view text)
    {
        auto address = parse_ipv4_address(text);
        if (!address)
            return fail(std::string(parameter) + ": " + address.error().message);
        if (auto why = unusable(*address))
            return fail(std::string(parameter) + ": " + std::string(text) + " is " + std::string(*why));
        return *address;
    }
} // namespace

Ipv4Address NetworkConfig::netmask() const
{
    uint32_t mask = mask_of(prefix_length);
    return { static_cast<uint8_t>(mask >> 24), static_cast<uint8_t>(mask >> 16), static_cast<uint8_t>(mask >> 8),
        static_cast<uint8_t>(mask) };
}

Result<Ipv4Address> parse_ipv4_address(std::string_view text)
{
    auto malformed = [&] { return fail("'" + std::string(text) + "' is not an IPv4 address like 10.0.2.15"); };
    Ipv4Address address {};
    size_t position = 0;
    for (size_t octet = 0; octet < 4; ++octet) {
        if (octet > 0) {
            if (position >= text.size() || text[position] != '.')
                return malformed();
            ++position;
        }
        size_t start = position;
        unsigned value = 0;
        while (position < text.size() && text[position] >= '0' && text[position] <= '9' && position - start < 3) {
            value = value * 10 + static_cast<unsigned>(text[position] - '0');
            ++position;
        }
        size_t digits = position - start;
        if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0'))
            return malformed();
        address[octet] = static_cast<uint8_t>(value);
    }
    if (position != text.size())
        return malformed();
    return address;
}

std::string format_ipv4_address(Ipv4Address const& address)
{
    return std::to_string(address[0]) + "." + std::to_string(address[1]) + "." + std::to_string(address[2]) + "."
        + std::to_string(address[3]);
}

Result<std::optional<NetworkConfig>> network_config(KernelCmdline const& cmdline)
{
    auto ip = find_parameter(cmdline, ip_parameter);
    auto gateway = find_parameter(cmdline, gateway_parameter);
    auto dns = find_parameter(cmdline, dns_parameter);
    if (!ip) {
        if (gateway || dns)
            return fail("husk.gw and husk.dns need husk.ip=ADDR/PREFIX");
        return std::optional<NetworkConfig>();
    }

    NetworkConfig config;
    auto slash = ip->find('/');
    if (slash == std::string::npos)
        return fail("husk.ip: '" + *ip + "' has no /PREFIX (like 10.0.2.15/24)");
    config.address = TRY(checked_address(ip_parameter, std::string_view(*ip).substr(0, slash)));
    auto prefix_text = std::string_view(*ip).substr(slash + 1);
    bool prefix_ok = !prefix_text.empty() && prefix_text.size() <= 2
        && std::all_of(prefix_text.begin(), prefix_text.end(), [](char c) { return c >= '0' && c <= '9'; })
        && !(prefix_text.size() > 1 && prefix_text[0] == '0');
    unsigned prefix = 0;
    for (char c : prefix_text)
        prefix = prefix * 10 + static_cast<unsigned>(c - '0');
    if (!prefix_ok || prefix < 1 || prefix > 32)
        return fail("husk.ip: prefix '" + std::string(prefix_text) + "' is not 1..32");
    config.prefix_length = prefix;
    uint32_t mask = mask_of(prefix);
    uint32_t host = as_number(config.address);
    if (prefix <= 30 && ((host & ~mask) == 0 || (host & ~mask) == ~mask))
        return fail("husk.ip: " + *ip + " is the network or broadcast address of its subnet");

    if (gateway) {
        auto next_hop = TRY(checked_address(gateway_parameter, *gateway));
        if (next_hop == config.address)
            return fail("husk.gw: " + *gateway + " is the guest's own address");
        if ((as_number(next_hop) & mask) != (host & mask))
            return fail("husk.gw: " + *gateway + " is outside " + *ip);
        config.gateway = next_hop;
    }
    if (dns) {
        std::string_view rest = *dns;
        while (true) {
            auto comma = rest.find(',');
            auto item = rest.substr(0, comma);
            if (config.nameservers.size() == max_nameservers)
                return fail("husk.dns: more than " + std::to_string(max_nameservers) + " nameservers");
            config.nameservers.push_back(TRY(checked_address(dns_parameter, item)));
            if (comma == std::string_view::npos)
                break;
            rest = rest.substr(comma + 1);
        }
    }
    return std::optional<NetworkConfig>(config);
}

Result<NetworkConfig> refreshed_network_config(std::string_view words)
{
    auto cmdline = parse_kernel_cmdline(words);
    if (cmdline.has_separator)
        return fail("network settings: '--' is not a network setting");
    for (auto const& parameter : cmdline.parameters) {
        if (parameter.name != ip_parameter && parameter.name != gateway_parameter && parameter.name != dns_parameter)
            return fail("network settings: '" + printable_value(parameter.joined())
                + "' is not one of husk.ip, husk.gw, husk.dns");
    }
    auto config = TRY(network_config(cmdline));
    if (!config)
        return fail("network settings: husk.ip is missing");
    return std::move(*config);
}

std::string resolv_conf_text(NetworkConfig const& config)
{
    std::string text;
    for (auto const& server : config.nameservers)
        text += "nameserver " + format_ipv4_address(server) + "\n";
    return text;
}

} // namespace husk::init
