// Tests for guest-init/network_config: which command lines configure eth0, the parsed values,
// resolv.conf's text, and every malformed or unusable value refused with a message.
#include "guest-init/network_config.hpp"

#include <gtest/gtest.h>
#include <string>

using namespace husk::init;

namespace {

auto config_of(std::string_view text) { return network_config(parse_kernel_cmdline(text)); }

} // namespace

TEST(NetworkConfig, NetworkConfig_NoParameters_EthZeroUntouched)
{
    auto config = config_of("console=ttyS0 quiet -- husk.ip=10.0.0.2/24");
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_FALSE(config->has_value()); // words after -- are the job's, never ours
}

TEST(NetworkConfig, NetworkConfig_AllParameters_Parsed)
{
    auto config = config_of("quiet husk.ip=10.0.2.15/24 husk.gw=10.0.2.1 husk.dns=10.0.2.1,198.18.0.53 -- true");
    ASSERT_TRUE(config) << config.error().message;
    ASSERT_TRUE(config->has_value());
    auto const& network = **config;
    EXPECT_EQ(network.address, (Ipv4Address { 10, 0, 2, 15 }));
    EXPECT_EQ(network.prefix_length, 24u);
    EXPECT_EQ(network.netmask(), (Ipv4Address { 255, 255, 255, 0 }));
    EXPECT_EQ(network.gateway, (Ipv4Address { 10, 0, 2, 1 }));
    ASSERT_EQ(network.nameservers.size(), 2u);
    EXPECT_EQ(resolv_conf_text(network), "nameserver 10.0.2.1\nnameserver 198.18.0.53\n");
}

TEST(NetworkConfig, NetworkConfig_AddressOnly_NoRouteNoResolver)
{
    auto config = config_of("husk.ip=192.0.2.6/30");
    ASSERT_TRUE(config) << config.error().message;
    ASSERT_TRUE(config->has_value());
    EXPECT_FALSE((*config)->gateway);
    EXPECT_EQ(resolv_conf_text(**config), "");
    EXPECT_EQ((*config)->netmask(), (Ipv4Address { 255, 255, 255, 252 }));
}

TEST(NetworkConfig, NetworkConfig_SlashThirtyTwoAndThirtyOne_Accepted)
{
    EXPECT_TRUE(config_of("husk.ip=203.0.113.9/32"));
    EXPECT_TRUE(config_of("husk.ip=203.0.113.8/31 husk.gw=203.0.113.9"));
}

TEST(NetworkConfig, ParseIpv4Address_Malformed_Refused)
{
    for (char const* text : { "", "1.2.3", "1.2.3.4.5", "1.2.3.256", "01.2.3.4", "1.2.3.04", "1..3.4", ".1.2.3",
             "1.2.3.4.", "a.b.c.d", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "1.2.3.+4", "1234.1.1.1", "0x1.2.3.4",
             "1.2.3.4/24", "::1", "1.2.3.1000" })
        EXPECT_FALSE(parse_ipv4_address(text)) << text;
    auto zero = parse_ipv4_address("0.0.0.0");
    ASSERT_TRUE(zero);
    EXPECT_EQ(format_ipv4_address(*zero), "0.0.0.0");
    EXPECT_EQ(format_ipv4_address(*parse_ipv4_address("255.10.0.1")), "255.10.0.1");
}

TEST(NetworkConfig, NetworkConfig_BadAddressOrPrefix_Refused)
{
    for (char const* text :
        { "husk.ip=10.0.0.2", "husk.ip=10.0.0.2/", "husk.ip=10.0.0.2/0", "husk.ip=10.0.0.2/33", "husk.ip=10.0.0.2/024",
            "husk.ip=10.0.0.2/2x", "husk.ip=10.0.0.2/-1", "husk.ip=/24", "husk.ip=10.0.0.2/24/8", "husk.ip=0.0.0.0/8",
            "husk.ip=127.0.0.1/8", "husk.ip=224.0.0.1/24", "husk.ip=255.255.255.255/32", "husk.ip=240.0.0.1/24",
            "husk.ip=0.1.2.3/24", "husk.ip=10.0.0.0/24", "husk.ip=10.0.0.255/24" }) {
        auto config = config_of(text);
        EXPECT_FALSE(config) << text;
        if (!config) {
            EXPECT_FALSE(config.error().message.empty());
        }
    }
}

TEST(NetworkConfig, NetworkConfig_BadGateway_Refused)
{
    for (char const* text : { "husk.ip=10.0.0.2/24 husk.gw=10.0.1.1", "husk.ip=10.0.0.2/24 husk.gw=10.0.0.2",
             "husk.ip=10.0.0.2/24 husk.gw=127.0.0.1", "husk.ip=10.0.0.2/24 husk.gw=", "husk.ip=10.0.0.2/24 husk.gw=x",
             "husk.ip=10.0.0.2/32 husk.gw=10.0.0.1", "husk.gw=10.0.0.1" })
        EXPECT_FALSE(config_of(text)) << text;
}

TEST(NetworkConfig, NetworkConfig_BadNameservers_Refused)
{
    for (char const* text : { "husk.ip=10.0.0.2/24 husk.dns=", "husk.ip=10.0.0.2/24 husk.dns=1.1.1.1,",
             "husk.ip=10.0.0.2/24 husk.dns=,1.1.1.1", "husk.ip=10.0.0.2/24 husk.dns=1.1.1.1,,8.8.8.8",
             "husk.ip=10.0.0.2/24 husk.dns=1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4", "husk.ip=10.0.0.2/24 husk.dns=224.0.0.251",
             "husk.ip=10.0.0.2/24 husk.dns=1.1.1.1;rm", "husk.ip=10.0.0.2/24 \"husk.dns=1.1.1.1\nnameserver 6.6.6.6\"",
             "husk.dns=1.1.1.1" })
        EXPECT_FALSE(config_of(text)) << text;
    EXPECT_TRUE(config_of("husk.ip=10.0.0.2/24 husk.dns=1.1.1.1,2.2.2.2,3.3.3.3"));
}

TEST(NetworkConfig, NetworkConfig_LastParameterWins)
{
    auto config = config_of("husk.ip=10.0.0.2/24 husk.ip=10.9.0.2/16");
    ASSERT_TRUE(config);
    ASSERT_TRUE(config->has_value());
    EXPECT_EQ((*config)->address, (Ipv4Address { 10, 9, 0, 2 }));
}

// Refresh::network: a restored clone's new settings, in the boot's words and with its checks.
TEST(NetworkConfig, RefreshedNetworkConfig_AllWords_Parsed)
{
    auto config = refreshed_network_config("husk.ip=10.231.0.14/30 husk.gw=10.231.0.13 husk.dns=10.231.0.13");
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->address, (Ipv4Address { 10, 231, 0, 14 }));
    EXPECT_EQ(config->prefix_length, 30u);
    EXPECT_EQ(config->gateway, (Ipv4Address { 10, 231, 0, 13 }));
    EXPECT_EQ(resolv_conf_text(*config), "nameserver 10.231.0.13\n");
}

TEST(NetworkConfig, RefreshedNetworkConfig_MissingAddressOrOtherWords_Refused)
{
    for (auto text : { "", "husk.gw=10.0.0.1", "husk.ip=10.0.0.2/24 husk.root=/dev/vda", "quiet husk.ip=10.0.0.2/24",
             "husk.ip=10.0.0.2/24 -- sh", "husk.ip=10.0.0.2/24 husk.gw=10.1.0.1", "husk.ip=10.0.0.0/24",
             "husk.ip=10.0.0.2/33", "husk.ip=10.0.0.2/24 husk.dns=1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4" }) {
        auto config = refreshed_network_config(text);
        EXPECT_FALSE(config) << text;
        if (!config) {
            EXPECT_EQ(config.error().message.find('\n'), std::string::npos) << config.error().message;
        }
    }
}
