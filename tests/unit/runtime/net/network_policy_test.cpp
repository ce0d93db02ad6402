// Tests for runtime/net/network_policy: none | internet | allow=LIST, and their rejections.
#include "runtime/net/network_policy.hpp"

#include <gtest/gtest.h>

using namespace husk;

TEST(NetworkPolicy, Policy_None_HasNoNetwork)
{
    auto policy = parse_network_policy("none");
    ASSERT_TRUE(policy);
    EXPECT_FALSE(policy->has_network());
    EXPECT_EQ(NetworkPolicy {}, *policy);
}

TEST(NetworkPolicy, Policy_Internet_HasNoLists)
{
    auto policy = parse_network_policy("internet");
    ASSERT_TRUE(policy);
    EXPECT_EQ(policy->mode, NetworkMode::Internet);
    EXPECT_TRUE(policy->addresses.empty());
    EXPECT_TRUE(policy->names.empty());
}

TEST(NetworkPolicy, Policy_AllowList_SplitsAddressesAndNames)
{
    auto policy = parse_network_policy("allow=198.18.0.0/15,203.0.113.5:443,Example.COM.,api.example.org:8080");
    ASSERT_TRUE(policy) << policy.error().message;
    EXPECT_EQ(policy->mode, NetworkMode::Allow);
    ASSERT_EQ(policy->addresses.size(), 2u);
    EXPECT_EQ(to_string(policy->addresses[0].cidr), "198.18.0.0/15");
    EXPECT_EQ(policy->addresses[0].port, std::nullopt);
    EXPECT_EQ(to_string(policy->addresses[1].cidr), "203.0.113.5/32");
    EXPECT_EQ(policy->addresses[1].port, 443);
    ASSERT_EQ(policy->names.size(), 2u);
    EXPECT_EQ(policy->names[0], (AllowedName { "example.com", std::nullopt }));
    EXPECT_EQ(policy->names[1], (AllowedName { "api.example.org", 8080 }));
}

TEST(NetworkPolicy, Policy_ToString_ParsesBackToTheSamePolicy)
{
    auto policy = parse_network_policy("allow=a.example:1,198.51.100.0/24,b.example,203.0.113.1:65535");
    ASSERT_TRUE(policy);
    auto again = parse_network_policy(to_string(*policy));
    ASSERT_TRUE(again) << to_string(*policy);
    EXPECT_EQ(*policy, *again);
    EXPECT_EQ(to_string(*parse_network_policy("internet")), "internet");
    EXPECT_EQ(to_string(*parse_network_policy("none")), "none");
}

TEST(NetworkPolicy, Policy_UnknownMode_IsRefused)
{
    for (char const* text : { "", "None", "on", "host", "bridge", "allow", "allow:1.2.3.4", "internet=1", " none" })
        EXPECT_FALSE(parse_network_policy(text)) << text;
}

TEST(NetworkPolicy, Policy_EmptyEntries_AreRefused)
{
    for (char const* text : { "allow=", "allow=,", "allow=1.2.3.4,", "allow=,1.2.3.4", "allow=1.2.3.4,,5.6.7.8" })
        EXPECT_FALSE(parse_network_policy(text)) << text;
}

TEST(NetworkPolicy, Policy_BadPorts_AreRefused)
{
    for (char const* text : { "allow=1.2.3.4:", "allow=1.2.3.4:0", "allow=1.2.3.4:65536", "allow=1.2.3.4:080",
             "allow=1.2.3.4:http", "allow=a.example:-1", "allow=a.example:99999999999", "allow=1.2.3.4:1:2" })
        EXPECT_FALSE(parse_network_policy(text)) << text;
}

TEST(NetworkPolicy, Policy_MalformedAddresses_AreRefusedNotTakenForNames)
{
    for (char const* text :
        { "allow=1.2.3.256", "allow=1.2.3", "allow=1.2.3.4/40", "allow=8.8.8.8/8", "allow=1.2.3.4.5" }) {
        auto policy = parse_network_policy(text);
        EXPECT_FALSE(policy) << text;
    }
}

TEST(NetworkPolicy, Policy_AlwaysDeniedRanges_CannotBeAllowed)
{
    for (char const* text : { "allow=10.0.0.1", "allow=169.254.169.254:80", "allow=127.0.0.1", "allow=192.168.1.0/24",
             "allow=172.20.0.0/16", "allow=100.64.0.1", "allow=0.0.0.0/0", "allow=224.0.0.1", "allow=255.255.255.255",
             "allow=0.1.2.3", "allow=8.0.0.0/5" }) {
        auto policy = parse_network_policy(text);
        ASSERT_FALSE(policy) << text;
        EXPECT_NE(policy.error().message.find("always denies"), std::string::npos) << policy.error().message;
    }
}

TEST(NetworkPolicy, Policy_Ipv6_IsRefusedWithAReason)
{
    for (char const* text : { "allow=2001:db8::1", "allow=[2001:db8::1]:443", "allow=::1" }) {
        auto policy = parse_network_policy(text);
        ASSERT_FALSE(policy) << text;
        EXPECT_NE(policy.error().message.find("IPv6"), std::string::npos) << policy.error().message;
    }
}

TEST(NetworkPolicy, Policy_TooManyEntries_IsRefused)
{
    std::string text = "allow=";
    for (size_t i = 0; i <= max_allow_entries; ++i)
        text += "h" + std::to_string(i) + ".example,";
    text.pop_back();
    EXPECT_FALSE(parse_network_policy(text));
    EXPECT_FALSE(parse_network_policy("allow=" + std::string(max_allow_text, 'a') + ".example"));
}

TEST(NetworkPolicy, DnsName_Malformed_IsRefused)
{
    for (char const* text :
        { "localhost", "example", ".example.com", "example..com", "-a.example", "a-.example", "a_b.example",
            "ex ample.com", "exam\"ple.com", "a.example/x", "1.2.3.4x.5", "a.123", "a.example..", "é.example" })
        EXPECT_FALSE(parse_dns_name(text)) << text;
    EXPECT_FALSE(parse_dns_name(std::string(64, 'a') + ".example"));
    std::string long_name;
    for (int i = 0; i < 64; ++i)
        long_name += "abc.";
    long_name += "example";
    EXPECT_FALSE(parse_dns_name(long_name));
}

TEST(NetworkPolicy, DnsName_Valid_IsLowerCasedWithoutTrailingDot)
{
    auto name = parse_dns_name("Pypi.Org.");
    ASSERT_TRUE(name);
    EXPECT_EQ(*name, "pypi.org");
    EXPECT_TRUE(parse_dns_name("x-1.b2.example"));
    EXPECT_TRUE(parse_dns_name(std::string(63, 'a') + ".example"));
}

TEST(NetworkPolicy, AlwaysDenied_CoversMetadataLoopbackAndPrivateRanges)
{
    auto covered = [](char const* text) {
        auto address = *parse_ipv4_address(text);
        for (auto const& block : always_denied_ipv4()) {
            if (block.contains(address))
                return true;
        }
        return false;
    };
    for (char const* text : { "0.0.0.0", "10.231.0.6", "100.64.0.1", "127.0.0.1", "169.254.169.254", "172.31.0.1",
             "192.168.0.1", "224.0.0.251", "239.255.255.250", "255.255.255.255" })
        EXPECT_TRUE(covered(text)) << text;
    for (char const* text : { "1.1.1.1", "198.18.0.10", "203.0.113.1", "172.32.0.1", "100.128.0.1" })
        EXPECT_FALSE(covered(text)) << text;
}
