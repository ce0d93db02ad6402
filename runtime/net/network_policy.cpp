// parse_network_policy: none | internet | allow=CIDR[:PORT],NAME[:PORT],...
#include "runtime/net/network_policy.hpp"

#include <array>
#include <charconv>

namespace husk {

namespace {
    constexpr Ipv4Cidr block(uint8_t a, uint8_t b, unsigned prefix)
    {
        return Ipv4Cidr { Ipv4Address { (uint32_t { a } << 24) | (uint32_t { b } << 16) }, prefix };
    }

    constexpr std::array<Ipv4Cidr, 9> denied_blocks = {
        block(0, 0, 8), // "this network"
        block(10, 0, 8), // private (husk's own address pool is inside it)
        block(100, 64, 10), // carrier-grade NAT
        block(127, 0, 8), // loopback
        block(169, 254, 16), // link-local: cloud metadata services
        block(172, 16, 12), // private
        block(192, 168, 16), // private
        block(224, 0, 4), // multicast
        block(240, 0, 4), // reserved, and 255.255.255.255
    };

    bool is_digit(char c) { return c >= '0' && c <= '9'; }
    bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

    // An entry that starts like a number is an address: a typo such as 1.2.3.256 must be an
    // error, not a host name that never resolves.
    bool looks_like_address(std::string_view text)
    {
        for (char c : text) {
            if (!is_digit(c) && c != '.' && c != '/')
                return false;
        }
        return true;
    }

    Result<uint16_t> parse_port(std::string_view text, std::string_view entry)
    {
        uint32_t port = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
        if (text.empty() || text.size() > 5 || text[0] == '0' || error != std::errc {}
            || end != text.data() + text.size() || port == 0 || port > 65535)
            return fail("allow entry \"" + std::string(entry) + "\": the port must be a number from 1 to 65535");
        return static_cast<uint16_t>(port);
    }

    Result<void> add_entry(NetworkPolicy& policy, std::string_view entry)
    {
        if (entry.empty())
            return fail("--net allow=: an empty entry (two commas, or a comma at an end)");
        if (entry.find(':') != entry.rfind(':') || entry.starts_with('['))
            return fail("allow entry \"" + std::string(entry) + "\": IPv6 is not supported (IPv6 is always dropped)");
        auto colon = entry.find(':');
        std::optional<uint16_t> port;
        if (colon != std::string_view::npos)
            port = TRY(parse_port(entry.substr(colon + 1), entry));
        auto target = entry.substr(0, colon);
        if (looks_like_address(target)) {
            auto cidr = TRY_CONTEXT(parse_ipv4_cidr(target), "allow entry");
            for (auto const& denied : denied_blocks) {
                if (cidr.overlaps(denied))
                    return fail("allow entry \"" + std::string(entry) + "\" overlaps " + to_string(denied)
                        + ", which husk always denies (private, loopback, link-local, CGNAT, multicast or reserved)");
            }
            policy.addresses.push_back({ cidr, port });
        } else {
            auto name = TRY_CONTEXT(parse_dns_name(target), "allow entry");
            policy.names.push_back({ std::move(name), port });
        }
        return {};
    }
} // namespace

std::span<Ipv4Cidr const> always_denied_ipv4() { return denied_blocks; }

Result<std::string> parse_dns_name(std::string_view text)
{
    std::string shown = "\"" + std::string(text.substr(0, 80)) + (text.size() > 80 ? "...\"" : "\"");
    if (text.ends_with('.'))
        text.remove_suffix(1);
    if (text.empty() || text.size() > 253)
        return fail(shown + " is not a host name (1 to 253 characters)");
    std::string name;
    size_t labels = 0;
    std::string_view last_label;
    while (true) {
        auto dot = text.find('.');
        auto label = text.substr(0, dot);
        if (label.empty() || label.size() > 63)
            return fail(shown + " is not a host name (each label has 1 to 63 characters)");
        if (label.front() == '-' || label.back() == '-')
            return fail(shown + " is not a host name (a label starts or ends with '-')");
        for (char c : label) {
            if (!is_alpha(c) && !is_digit(c) && c != '-')
                return fail(shown + " is not a host name (only letters, digits, '-' and '.')");
            name.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
        }
        ++labels;
        last_label = label;
        if (dot == std::string_view::npos)
            break;
        name.push_back('.');
        text.remove_prefix(dot + 1);
    }
    if (labels < 2)
        return fail(shown + " is not a fully qualified host name (it needs a dot, e.g. example.com)");
    bool numeric_top = true;
    for (char c : last_label)
        numeric_top = numeric_top && is_digit(c);
    if (numeric_top)
        return fail(shown + " is neither an IPv4 address nor a host name");
    return name;
}

Result<NetworkPolicy> parse_network_policy(std::string_view text)
{
    NetworkPolicy policy;
    if (text == "none")
        return policy;
    if (text == "internet") {
        policy.mode = NetworkMode::Internet;
        return policy;
    }
    constexpr std::string_view allow_prefix = "allow=";
    if (!text.starts_with(allow_prefix))
        return fail("--net \"" + std::string(text.substr(0, 80)) + "\": expected none, internet or allow=LIST");
    if (text.size() > max_allow_text)
        return fail("--net allow=: the list is longer than " + std::to_string(max_allow_text) + " characters");
    policy.mode = NetworkMode::Allow;
    std::string_view list = text.substr(allow_prefix.size());
    if (list.empty())
        return fail("--net allow= needs at least one CIDR[:PORT] or NAME[:PORT] (use --net none for no network)");
    while (true) {
        auto comma = list.find(',');
        TRY(add_entry(policy, list.substr(0, comma)));
        if (policy.addresses.size() + policy.names.size() > max_allow_entries)
            return fail("--net allow=: more than " + std::to_string(max_allow_entries) + " entries");
        if (comma == std::string_view::npos)
            break;
        list.remove_prefix(comma + 1);
    }
    return policy;
}

std::string to_string(NetworkPolicy const& policy)
{
    switch (policy.mode) {
    case NetworkMode::None:
        return "none";
    case NetworkMode::Internet:
        return "internet";
    case NetworkMode::Allow:
        break;
    }
    std::string text = "allow=";
    auto port_suffix = [](std::optional<uint16_t> port) { return port ? ":" + std::to_string(*port) : std::string {}; };
    for (auto const& address : policy.addresses)
        text += to_string(address.cidr) + port_suffix(address.port) + ",";
    for (auto const& name : policy.names)
        text += name.name + port_suffix(name.port) + ",";
    text.pop_back();
    return text;
}

} // namespace husk
