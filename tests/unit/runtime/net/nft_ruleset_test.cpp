// Tests for runtime/net/nft_ruleset: the generated nft text, rule by rule and in order.
#include "runtime/net/nft_ruleset.hpp"

#include <gtest/gtest.h>

using namespace husk;

namespace {
SandboxRulesInput input_for(char const* policy_text)
{
    SandboxRulesInput input;
    input.addresses = sandbox_addresses(2);
    input.policy = *parse_network_policy(policy_text);
    return input;
}

size_t position(std::string const& text, std::string const& piece, size_t from = 0)
{
    auto at = text.find(piece, from);
    EXPECT_NE(at, std::string::npos) << "missing: " << piece << "\nin:\n" << text;
    return at;
}
} // namespace

TEST(NftRuleset, Sandbox_DeniedSet_HasEveryAlwaysDeniedBlockAndTheHostAddresses)
{
    auto input = input_for("internet");
    input.host_addresses
        = { *parse_ipv4_address("198.18.0.1"), *parse_ipv4_address("127.0.0.1"), *parse_ipv4_address("198.18.0.1") };
    auto text = sandbox_ruleset(input);
    position(text,
        "\tset denied4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n\t\telements = { 0.0.0.0/8, "
        "10.0.0.0/8, "
        "100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, 192.168.0.0/16, 224.0.0.0/4, 240.0.0.0/4, "
        "198.18.0.1 }\n");
    EXPECT_EQ(text.find("127.0.0.1"), std::string::npos) << "covered host addresses are not listed twice";
}

TEST(NftRuleset, Sandbox_ForwardChain_DropsBeforeItAcceptsAndEndsRejecting)
{
    auto text = sandbox_ruleset(input_for("internet"));
    auto policy = position(text, "type filter hook forward priority filter; policy drop;");
    auto established = position(text, "ct state established,related accept", policy);
    auto not_tap = position(text, "iifname != \"husk-tap\" drop");
    auto ipv6 = position(text, "meta nfproto ipv6 drop");
    auto spoofed = position(text, "ip saddr != 10.231.0.22 drop");
    auto denied = position(text, "ip daddr @denied4 drop");
    auto accept = position(text, "\t\taccept\n");
    auto reject = position(text, "reject with icmpx admin-prohibited");
    EXPECT_LT(policy, established);
    EXPECT_LT(established, not_tap);
    EXPECT_LT(not_tap, ipv6);
    EXPECT_LT(ipv6, spoofed);
    EXPECT_LT(spoofed, denied);
    EXPECT_LT(denied, accept);
    EXPECT_LT(accept, reject);
    EXPECT_EQ(text.find("allowed4"), std::string::npos);
}

TEST(NftRuleset, Sandbox_AllowList_AcceptsOnlyItsSetsAfterTheDenials)
{
    auto text
        = sandbox_ruleset(input_for("allow=198.18.1.0/24,203.0.113.9:443,198.18.1.0/24,files.example:8080,a.example"));
    position(text,
        "\tset allowed4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n\t\telements = { 198.18.1.0/24 }\n");
    position(text,
        "\tset allowed4_ports {\n\t\ttype ipv4_addr . inet_service\n\t\tflags interval\n\t\telements = { "
        "203.0.113.9/32 . 443 }\n");
    position(text, "\tset names_any {\n\t\ttype ipv4_addr\n\t}\n");
    position(text, "\tset names_p8080 {\n\t\ttype ipv4_addr\n\t}\n");
    auto denied = position(text, "ip daddr @denied4 drop");
    auto cidr = position(text, "ip daddr @allowed4 accept");
    position(text, "meta l4proto { tcp, udp } ip daddr . th dport @allowed4_ports accept");
    position(text, "meta l4proto { tcp, udp } ip daddr @names_p8080 th dport 8080 accept");
    position(text, "ip daddr @names_any accept");
    EXPECT_LT(denied, cidr);
    EXPECT_EQ(text.find("\t\taccept\n"), std::string::npos) << "no unconditional accept in allow mode";
}

TEST(NftRuleset, Sandbox_AllowWithoutEntries_StillDeclaresEmptySets)
{
    auto text = sandbox_ruleset(input_for("allow=a.example"));
    position(text, "\tset allowed4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n\t}\n");
}

TEST(NftRuleset, Sandbox_InputChain_OpensOnlyDnsOnTheGateway)
{
    auto input = input_for("allow=a.example");
    auto without = sandbox_ruleset(input);
    EXPECT_EQ(without.find("dport 53"), std::string::npos);
    input.dns_forwarder = true;
    auto with = sandbox_ruleset(input);
    position(with,
        "iifname \"husk-tap\" ip saddr 10.231.0.22 ip daddr 10.231.0.21 meta l4proto { tcp, udp } th dport 53 accept");
    position(with, "type filter hook input priority filter; policy drop;");
}

TEST(NftRuleset, Sandbox_PublishedPorts_AreTheOnlyWayIn)
{
    auto input = input_for("none");
    input.published = { { 8080, 80 }, { 8443, 443 }, { 9080, 80 } };
    auto text = sandbox_ruleset(input);
    auto in
        = position(text, "iifname \"uplink\" oifname \"husk-tap\" ip daddr 10.231.0.22 tcp dport { 80, 443 } accept");
    EXPECT_LT(in, position(text, "iifname != \"husk-tap\" drop"));
}

TEST(NftRuleset, Host_Table_DnatsPublishedPortsOnHostAddressesAndMasqueradesTheBlock)
{
    std::vector<PublishedPort> published { { 8080, 80 } };
    std::vector<Ipv4Address> host { *parse_ipv4_address("198.18.0.1"), *parse_ipv4_address("127.0.0.1"),
        *parse_ipv4_address("203.0.113.4") };
    auto text = host_ruleset(sandbox_addresses(2), published, host);
    position(text, "table inet husk_2 {\n");
    position(text, "\tset host4 {\n\t\ttype ipv4_addr\n\t\telements = { 198.18.0.1, 203.0.113.4 }\n");
    position(text,
        "type nat hook prerouting priority -100; policy accept;\n\t\tip daddr @host4 tcp dport 8080 dnat ip to "
        "10.231.0.22:80\n");
    position(text,
        "type nat hook output priority -100; policy accept;\n\t\tip daddr @host4 tcp dport 8080 dnat ip to "
        "10.231.0.22:80\n");
    position(text, "ip saddr 10.231.0.16/29 oifname != \"husk-v2\" masquerade");
    EXPECT_EQ(host_ruleset_removal(sandbox_addresses(2)), "delete table inet husk_2\n");
}
