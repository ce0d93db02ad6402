// sandbox_ruleset / host_ruleset: nft text. Quoting: every value in the text is produced here
// from parsed numbers, addresses and DNS names (letters, digits, '-', '.'), never from raw input.
#include "runtime/net/nft_ruleset.hpp"

#include <algorithm>
#include <set>

namespace husk {

namespace {
    std::string quoted(std::string const& name) { return "\"" + name + "\""; }

    std::string elements(std::vector<std::string> const& items)
    {
        std::string text;
        for (auto const& item : items)
            text += (text.empty() ? "" : ", ") + item;
        return "\t\telements = { " + text + " }\n";
    }

    std::string interval_set(std::string const& name, std::string const& type, std::vector<std::string> const& items)
    {
        std::string text = "\tset " + name + " {\n\t\ttype " + type + "\n\t\tflags interval\n";
        if (type == "ipv4_addr")
            text += "\t\tauto-merge\n";
        if (!items.empty())
            text += elements(items);
        return text + "\t}\n";
    }

    std::vector<std::string> denied_elements(SandboxRulesInput const& input)
    {
        std::vector<std::string> items;
        auto denied = always_denied_ipv4();
        for (auto const& block : denied)
            items.push_back(to_string(block));
        std::set<Ipv4Address> extra(input.host_addresses.begin(), input.host_addresses.end());
        for (auto address : extra) {
            bool covered
                = std::any_of(denied.begin(), denied.end(), [&](auto const& block) { return block.contains(address); });
            if (!covered)
                items.push_back(to_string(address));
        }
        return items;
    }

    std::set<std::optional<uint16_t>> name_ports(NetworkPolicy const& policy)
    {
        std::set<std::optional<uint16_t>> ports;
        for (auto const& name : policy.names)
            ports.insert(name.port);
        return ports;
    }

    std::string allow_sets(NetworkPolicy const& policy)
    {
        std::set<std::string> any_port;
        std::set<std::string> with_port;
        for (auto const& allowed : policy.addresses) {
            if (allowed.port)
                with_port.insert(to_string(allowed.cidr) + " . " + std::to_string(*allowed.port));
            else
                any_port.insert(to_string(allowed.cidr));
        }
        std::string text;
        text += interval_set("allowed4", "ipv4_addr", { any_port.begin(), any_port.end() });
        text += interval_set("allowed4_ports", "ipv4_addr . inet_service", { with_port.begin(), with_port.end() });
        for (auto const& port : name_ports(policy))
            text += "\tset " + name_set(port) + " {\n\t\ttype ipv4_addr\n\t}\n";
        return text;
    }

    std::string allow_rules(NetworkPolicy const& policy)
    {
        std::string text;
        text += "\t\tip daddr @allowed4 accept\n";
        text += "\t\tmeta l4proto { tcp, udp } ip daddr . th dport @allowed4_ports accept\n";
        for (auto const& port : name_ports(policy)) {
            if (port)
                text += "\t\tmeta l4proto { tcp, udp } ip daddr @" + name_set(port) + " th dport "
                    + std::to_string(*port) + " accept\n";
            else
                text += "\t\tip daddr @" + name_set(port) + " accept\n";
        }
        return text;
    }
} // namespace

std::string name_set(std::optional<uint16_t> port) { return port ? "names_p" + std::to_string(*port) : "names_any"; }

std::string sandbox_ruleset(SandboxRulesInput const& input)
{
    auto const& a = input.addresses;
    std::string tap = quoted(sandbox_tap_name);
    std::string uplink = quoted(sandbox_uplink_name);
    std::string guest = to_string(a.guest);
    std::string text = "table inet " + std::string(sandbox_table_name) + " {\n";
    text += interval_set("denied4", "ipv4_addr", denied_elements(input));
    if (input.policy.mode == NetworkMode::Allow)
        text += allow_sets(input.policy);

    text += "\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n";
    text += "\t\tct state established,related accept\n";
    text += "\t\tiifname \"lo\" accept\n";
    if (input.dns_forwarder)
        text += "\t\tiifname " + tap + " ip saddr " + guest + " ip daddr " + to_string(a.gateway)
            + " meta l4proto { tcp, udp } th dport 53 accept\n";
    text += "\t}\n";

    text += "\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n";
    text += "\t\tct state established,related accept\n";
    text += "\t\tct state invalid drop\n";
    if (!input.published.empty()) {
        std::set<uint16_t> ports;
        for (auto const& published : input.published)
            ports.insert(published.guest_port);
        std::string list;
        for (auto port : ports)
            list += (list.empty() ? "" : ", ") + std::to_string(port);
        text += "\t\tiifname " + uplink + " oifname " + tap + " ip daddr " + guest + " tcp dport { " + list
            + " } accept\n";
    }
    text += "\t\tiifname != " + tap + " drop\n";
    text += "\t\tmeta nfproto ipv6 drop\n";
    text += "\t\tip saddr != " + guest + " drop\n";
    text += "\t\toifname != " + uplink + " drop\n";
    text += "\t\tip daddr @denied4 drop\n";
    if (input.policy.mode == NetworkMode::Internet)
        text += "\t\taccept\n";
    else if (input.policy.mode == NetworkMode::Allow)
        text += allow_rules(input.policy);
    text += "\t\tmeta l4proto tcp reject with tcp reset\n";
    text += "\t\treject with icmpx admin-prohibited\n";
    text += "\t}\n";
    text += "}\n";
    return text;
}

std::string host_ruleset(SandboxAddresses const& addresses, std::span<PublishedPort const> published,
    std::span<Ipv4Address const> host_addresses)
{
    std::string guest = to_string(addresses.guest);
    std::string text = "table inet " + addresses.host_table_name() + " {\n";
    // The host's own addresses, loopback excepted: a published port is a port of the host. (A
    // set listed at set-up time rather than `fib daddr type local`, which needs NFT_FIB.)
    std::set<Ipv4Address> local;
    for (auto address : host_addresses) {
        if ((address.value >> 24) != 127)
            local.insert(address);
    }
    std::vector<std::string> items;
    for (auto address : local)
        items.push_back(to_string(address));
    text += "\tset host4 {\n\t\ttype ipv4_addr\n";
    if (!items.empty())
        text += elements(items);
    text += "\t}\n";
    for (char const* hook : { "prerouting", "output" }) {
        text += std::string("\tchain ") + hook + " {\n\t\ttype nat hook " + hook + " priority -100; policy accept;\n";
        for (auto const& port : published)
            text += "\t\tip daddr @host4 tcp dport " + std::to_string(port.host_port) + " dnat ip to " + guest + ":"
                + std::to_string(port.guest_port) + "\n";
        text += "\t}\n";
    }
    text += "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n";
    text += "\t\tip saddr " + to_string(addresses.block) + " oifname != " + quoted(addresses.host_veth_name())
        + " masquerade\n";
    text += "\t}\n";
    text += "}\n";
    return text;
}

std::string host_ruleset_removal(SandboxAddresses const& addresses)
{
    return "delete table inet " + addresses.host_table_name() + "\n";
}

} // namespace husk
