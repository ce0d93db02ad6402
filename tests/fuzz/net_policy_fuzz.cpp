// libFuzzer target for the network options a caller hands husk: --net (parse_network_policy),
// --publish (parse_published_port) and the resolv.conf the DNS forwarder reads. Properties:
//   - an accepted policy prints (to_string) as text that parses back to the same policy;
//   - no accepted address entry overlaps an always-denied block;
//   - every accepted name is only [a-z0-9.-] (it is written into nft and dnsmasq arguments);
//   - the generated nft ruleset and dnsmasq arguments contain no quote, newline or NUL that
//     did not come from husk itself;
//   - an accepted published port has both ports in 1..65535.
#include "runtime/net/dns_forwarder.hpp"
#include "runtime/net/network_policy.hpp"
#include "runtime/net/nft_ruleset.hpp"
#include "runtime/net/published_port.hpp"
#include "tests/fuzz/fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    FuzzedDataProvider input(data, size);
    auto choice = input.ConsumeIntegralInRange<int>(0, 2);
    auto text = input.ConsumeRemainingBytesAsString();
    if (choice == 0) {
        auto policy = husk::parse_network_policy(text);
        auto prefixed = husk::parse_network_policy("allow=" + text);
        for (auto const* parsed : { &policy, &prefixed }) {
            if (!*parsed)
                continue;
            auto again = husk::parse_network_policy(husk::to_string(**parsed));
            require(again && *again == **parsed);
            for (auto const& allowed : (*parsed)->addresses) {
                for (auto const& denied : husk::always_denied_ipv4())
                    require(!allowed.cidr.overlaps(denied));
            }
            for (auto const& name : (*parsed)->names) {
                for (char c : name.name)
                    require((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.');
            }
            husk::SandboxRulesInput rules;
            rules.addresses = husk::sandbox_addresses(static_cast<uint32_t>(size));
            rules.policy = **parsed;
            rules.dns_forwarder = true;
            auto ruleset = husk::sandbox_ruleset(rules);
            require(ruleset.find('\0') == std::string::npos);
            for (auto const& argument : husk::dnsmasq_arguments(rules.addresses, rules.policy, {}))
                require(argument.find_first_of(std::string("\"\n\0 ", 4)) == std::string::npos);
        }
    } else if (choice == 1) {
        auto port = husk::parse_published_port(text);
        if (port)
            require(port->host_port != 0 && port->guest_port != 0);
    } else {
        for (auto server : husk::upstream_servers_from_resolv_conf(text))
            require((server.value >> 24) != 127);
    }
    return 0;
}
