// --net-tap parsing: the name alone, every setting, and each malformed value refused with a
// message: bad names, MACs, rates, unknown and repeated settings, stray commas; and the
// husk-vmm option itself (once only, carried into the MachineConfig).
#include "runtime/main/net_tap_option.hpp"
#include "runtime/main/vmm_options.hpp"
#include "runtime/net/mac_address.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace husk;
using namespace std::chrono_literals;

TEST(NetTapOption, ParseNetTapOption_NameOnly_NoMacNoLimits)
{
    auto config = parse_net_tap_option("tap0");
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->tap_name, "tap0");
    EXPECT_FALSE(config->mac);
    EXPECT_TRUE(config->rx_limit.is_unlimited());
    EXPECT_TRUE(config->tx_limit.is_unlimited());
}

TEST(NetTapOption, ParseNetTapOption_AllSettings_Parsed)
{
    auto config
        = parse_net_tap_option("husk-tap_1,mac=02:AB:cd:00:00:01,rx-bytes=10M,tx-bytes=512K,rx-pps=1000,tx-pps=5");
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->tap_name, "husk-tap_1");
    ASSERT_TRUE(config->mac);
    EXPECT_EQ(*config->mac, (MacAddress { 0x02, 0xab, 0xcd, 0, 0, 1 }));
    EXPECT_EQ(config->rx_limit.bytes, (TokenBucketConfig { 10u << 20, 0, 1000ms }));
    EXPECT_EQ(config->tx_limit.bytes, (TokenBucketConfig { 512u << 10, 0, 1000ms }));
    EXPECT_EQ(config->rx_limit.packets, (TokenBucketConfig { 1000, 0, 1000ms }));
    EXPECT_EQ(config->tx_limit.packets, (TokenBucketConfig { 5, 0, 1000ms }));
}

TEST(NetTapOption, ParseNetTapOption_BadNames_Refused)
{
    std::vector<std::string> const names { "", ",mac=02:00:00:00:00:01", "0123456789abcdef", ".", "..", "a/b", "a:b",
        "a b", std::string("a\0b", 3), "tab\tname", "caf\xc3\xa9" };
    for (auto const& text : names) {
        auto config = parse_net_tap_option(text);
        EXPECT_FALSE(config) << text;
        if (!config) {
            EXPECT_NE(config.error().message.find("--net-tap"), std::string::npos);
        }
    }
    EXPECT_TRUE(parse_net_tap_option("0123456789abcde")); // 15 bytes: the longest
}

TEST(NetTapOption, ParseNetTapOption_BadMacs_Refused)
{
    for (char const* mac : { "02:00:00:00:00", "02:00:00:00:00:01:02", "0g:00:00:00:00:01", "02-00-00-00-00-01",
             "01:00:5e:00:00:01", "00:00:00:00:00:00", "2:00:00:00:00:001", "" })
        EXPECT_FALSE(parse_net_tap_option(std::string("tap0,mac=") + mac)) << mac;
}

TEST(NetTapOption, ParseNetTapOption_BadRates_Refused)
{
    for (char const* setting : { "rx-bytes=0", "rx-bytes=", "rx-bytes=-1", "rx-bytes=1.5M", "rx-bytes=M",
             "tx-bytes=2000G", "tx-bytes=99999999999999999999", "rx-pps=0", "tx-pps=1K", "rx-pps=1000000001",
             "rx-bytes= 5", "tx-bytes=5T" })
        EXPECT_FALSE(parse_net_tap_option(std::string("tap0,") + setting)) << setting;
    EXPECT_TRUE(parse_net_tap_option("tap0,tx-bytes=1024G")); // 1 TiB/s: the largest
}

TEST(NetTapOption, ParseNetTapOption_UnknownRepeatedOrEmptySettings_Refused)
{
    for (char const* text : { "tap0,", "tap0,,rx-pps=1", "tap0,speed=1", "tap0,mac", "tap0,rx-pps=1,rx-pps=2",
             "tap0,mac=02:00:00:00:00:01,mac=02:00:00:00:00:02", "tap0,=1" })
        EXPECT_FALSE(parse_net_tap_option(text)) << text;
}

TEST(NetTapOption, MacAddress_FormatAndRandom_LocallyAdministeredUnicast)
{
    auto mac = parse_mac_address("02:ab:cd:ef:01:23");
    ASSERT_TRUE(mac);
    EXPECT_EQ(format_mac_address(*mac), "02:ab:cd:ef:01:23");
    for (int i = 0; i < 32; ++i) {
        auto random = random_local_mac_address();
        ASSERT_TRUE(random);
        EXPECT_EQ((*random)[0] & 0x03, 0x02);
        EXPECT_TRUE(parse_mac_address(format_mac_address(*random)));
    }
}

TEST(NetTapOption, VmmOptions_NetTap_CarriedIntoTheMachineConfigAndOnlyOnce)
{
    std::vector<char const*> argv { "husk-vmm", "--kernel", "k", "--net-tap", "tap0,tx-pps=10" };
    auto options = parse_vmm_options(argv);
    ASSERT_TRUE(options) << options.error().message;
    auto config = machine_config_from(*options, "");
    ASSERT_TRUE(config.net);
    EXPECT_EQ(config.net->tap_name, "tap0");
    EXPECT_TRUE(config.net->tx_limit.packets);

    argv.push_back("--net-tap=tap1");
    EXPECT_FALSE(parse_vmm_options(argv));
    std::vector<char const*> bad { "husk-vmm", "--kernel", "k", "--net-tap", "tap0,rx-pps=x" };
    EXPECT_FALSE(parse_vmm_options(bad));
    std::vector<char const*> none { "husk-vmm", "--kernel", "k" };
    auto plain = parse_vmm_options(none);
    ASSERT_TRUE(plain);
    EXPECT_FALSE(machine_config_from(*plain, "").net);
}

TEST(NetStreamOption, FdOrPath_ParsedWithTheTapSettings)
{
    auto by_fd = parse_net_stream_option("fd=4,mac=02:00:00:00:00:07,rx-bytes=1M");
    ASSERT_TRUE(by_fd) << by_fd.error().message;
    EXPECT_EQ(by_fd->backend, NetConfig::Backend::Stream);
    ASSERT_TRUE(by_fd->stream_fd);
    EXPECT_EQ(*by_fd->stream_fd, 4);
    EXPECT_TRUE(by_fd->mac);
    ASSERT_TRUE(by_fd->rx_limit.bytes);
    EXPECT_EQ(by_fd->rx_limit.bytes->size, 1u << 20);

    auto by_path = parse_net_stream_option("/run/user/1000/passt.socket");
    ASSERT_TRUE(by_path) << by_path.error().message;
    EXPECT_FALSE(by_path->stream_fd);
    EXPECT_EQ(by_path->stream_path, "/run/user/1000/passt.socket");
}

TEST(NetStreamOption, Malformed_Refused)
{
    for (char const* text : { "", "fd=", "fd=-1", "fd=x", "fd=99999999", "relative.sock", "fd=3,mac=01:00:00:00:00:01",
             "fd=3,rx-bytes=0", "fd=3,bogus=1", "fd=3,mac=02:00:00:00:00:01,mac=02:00:00:00:00:02", "fd=3,", "fd=3,mac" }) {
        auto parsed = parse_net_stream_option(text);
        EXPECT_FALSE(parsed) << "'" << text << "' was accepted";
        if (!parsed) {
            EXPECT_NE(parsed.error().message.find("--net-stream"), std::string::npos) << parsed.error().message;
        }
    }
    EXPECT_FALSE(parse_net_stream_option("/" + std::string(200, 'a')));
    EXPECT_FALSE(parse_net_stream_option(std::string("/a\0b", 4)));
}

TEST(NetStreamOption, VmmOptions_NetStream_CarriedIntoTheMachineConfigAndAlone)
{
    std::vector<char const*> argv { "husk-vmm", "--kernel", "k", "--net-stream", "fd=5" };
    auto options = parse_vmm_options(argv);
    ASSERT_TRUE(options) << options.error().message;
    auto config = machine_config_from(*options, "");
    ASSERT_TRUE(config.net);
    EXPECT_EQ(config.net->backend, NetConfig::Backend::Stream);
    EXPECT_EQ(config.net->stream_fd, 5);

    std::vector<char const*> with_tap { "husk-vmm", "--kernel", "k", "--net-stream", "fd=5", "--net-tap", "tap0" };
    EXPECT_FALSE(parse_vmm_options(with_tap));
    std::vector<char const*> with_net { "husk-vmm", "--kernel", "k", "--net-stream", "fd=5", "--net", "internet",
        "--jail", "/tmp/j", "--jail-uid", "1", "--jail-gid", "1" };
    auto refused = parse_vmm_options(with_net);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("--net-stream"), std::string::npos);
}
