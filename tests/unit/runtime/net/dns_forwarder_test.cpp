// Tests for runtime/net/dns_forwarder: when a forwarder runs, its upstreams and its arguments.
#include "runtime/net/dns_forwarder.hpp"

#include <algorithm>
#include <gtest/gtest.h>

using namespace husk;

namespace {
bool has(std::vector<std::string> const& arguments, std::string const& argument)
{
    return std::find(arguments.begin(), arguments.end(), argument) != arguments.end();
}
} // namespace

TEST(DnsForwarder, Needed_ForInternetAndForNames)
{
    EXPECT_FALSE(needs_dns_forwarder(*parse_network_policy("none")));
    EXPECT_TRUE(needs_dns_forwarder(*parse_network_policy("internet")));
    EXPECT_FALSE(needs_dns_forwarder(*parse_network_policy("allow=198.18.0.0/15")));
    EXPECT_TRUE(needs_dns_forwarder(*parse_network_policy("allow=198.18.0.0/15,a.example")));
}

TEST(DnsForwarder, ResolvConf_LoopbackAndJunk_AreSkipped)
{
    auto servers = upstream_servers_from_resolv_conf("# comment\nnameserver 127.0.0.53\nnameserver\t198.18.0.53 \r\n"
                                                     "nameserver 2001:db8::1\nnameservers 1.1.1.1\n search example\n"
                                                     "nameserver 1.2.3.4.5\nnameserver 9.9.9.9");
    ASSERT_EQ(servers.size(), 2u);
    EXPECT_EQ(to_string(servers[0]), "198.18.0.53");
    EXPECT_EQ(to_string(servers[1]), "9.9.9.9");
    EXPECT_TRUE(upstream_servers_from_resolv_conf("").empty());
}

TEST(DnsForwarder, Arguments_Internet_ForwardEverythingOnTheGatewayOnly)
{
    auto arguments = dnsmasq_arguments(
        sandbox_addresses(0), *parse_network_policy("internet"), { *parse_ipv4_address("198.18.0.53") });
    EXPECT_TRUE(has(arguments, "--listen-address=10.231.0.5"));
    EXPECT_TRUE(has(arguments, "--bind-interfaces"));
    EXPECT_TRUE(has(arguments, "--conf-file=/dev/null"));
    EXPECT_TRUE(has(arguments, "--server=198.18.0.53"));
    EXPECT_TRUE(
        std::none_of(arguments.begin(), arguments.end(), [](auto const& a) { return a.starts_with("--nftset"); }));
}

TEST(DnsForwarder, Arguments_Names_ForwardOnlyThemAndFillTheirSets)
{
    auto policy = *parse_network_policy("allow=a.example,b.example:443,c.example,198.18.0.10");
    auto arguments = dnsmasq_arguments(sandbox_addresses(0), policy, { *parse_ipv4_address("198.18.0.53") });
    EXPECT_TRUE(has(arguments, "--server=/a.example/198.18.0.53"));
    EXPECT_TRUE(has(arguments, "--server=/b.example/198.18.0.53"));
    EXPECT_FALSE(has(arguments, "--server=198.18.0.53")) << "other names must not resolve";
    EXPECT_TRUE(has(arguments, "--nftset=/a.example/c.example/4#inet#husk#names_any"));
    EXPECT_TRUE(has(arguments, "--nftset=/b.example/4#inet#husk#names_p443"));
}
