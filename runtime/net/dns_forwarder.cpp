// dnsmasq arguments for a sandbox, and the upstream servers from resolv.conf.
#include "runtime/net/dns_forwarder.hpp"

#include "runtime/net/nft_ruleset.hpp"

#include <map>

namespace husk {

bool needs_dns_forwarder(NetworkPolicy const& policy)
{
    return policy.mode == NetworkMode::Internet || (policy.mode == NetworkMode::Allow && !policy.names.empty());
}

std::vector<Ipv4Address> upstream_servers_from_resolv_conf(std::string_view text)
{
    std::vector<Ipv4Address> servers;
    while (!text.empty()) {
        auto end = text.find('\n');
        auto line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view {} : text.substr(end + 1);
        constexpr std::string_view keyword = "nameserver";
        if (!line.starts_with(keyword) || line.size() == keyword.size()
            || (line[keyword.size()] != ' ' && line[keyword.size()] != '\t'))
            continue;
        line.remove_prefix(keyword.size());
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
            line.remove_prefix(1);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
            line.remove_suffix(1);
        auto address = parse_ipv4_address(line);
        if (!address || (address->value >> 24) == 127)
            continue;
        servers.push_back(*address);
    }
    return servers;
}

std::vector<std::string> dnsmasq_arguments(
    SandboxAddresses const& addresses, NetworkPolicy const& policy, std::vector<Ipv4Address> const& upstreams)
{
    std::vector<std::string> arguments {
        "--keep-in-foreground", // the launcher is its parent and stops it
        "--conf-file=/dev/null", // nothing from the host's dnsmasq configuration
        "--no-resolv",
        "--no-hosts",
        "--no-poll",
        "--bind-interfaces",
        "--listen-address=" + to_string(addresses.gateway),
        "--pid-file=",
        "--user=nobody",
        "--group=nogroup",
        "--cache-size=256",
        "--log-facility=/dev/null",
    };
    if (policy.mode == NetworkMode::Internet) {
        for (auto server : upstreams)
            arguments.push_back("--server=" + to_string(server));
        return arguments;
    }
    std::map<std::string, std::vector<std::string>> names_by_set;
    for (auto const& name : policy.names) {
        for (auto server : upstreams)
            arguments.push_back("--server=/" + name.name + "/" + to_string(server));
        names_by_set[name_set(name.port)].push_back(name.name);
    }
    for (auto const& [set, names] : names_by_set) {
        std::string option = "--nftset=";
        for (auto const& name : names)
            option += "/" + name;
        option += "/4#inet#" + std::string(sandbox_table_name) + "#" + set;
        arguments.push_back(option);
    }
    return arguments;
}

} // namespace husk
