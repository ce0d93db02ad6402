// Tests for runtime/net/ipv4: strict dotted quads and CIDR blocks.
#include "runtime/net/ipv4.hpp"

#include <gtest/gtest.h>

using namespace husk;

TEST(Ipv4, Address_DottedQuad_Parses)
{
    auto address = parse_ipv4_address("198.18.0.10");
    ASSERT_TRUE(address) << address.error().message;
    EXPECT_EQ(address->value, 0xc612000au);
    EXPECT_EQ(to_string(*address), "198.18.0.10");
}

TEST(Ipv4, Address_Malformed_IsRefused)
{
    for (char const* text : { "", "1", "1.2.3", "1.2.3.4.5", "1.2.3.256", "01.2.3.4", "1..2.3", "1.2.3.4 ", " 1.2.3.4",
             "a.b.c.d", "1.2.3.-4", "1.2.3.+4", "1.2.3.4.", ".1.2.3", "1234.1.1.1", "0x1.2.3.4" })
        EXPECT_FALSE(parse_ipv4_address(text)) << text;
}

TEST(Ipv4, Cidr_AddressAlone_IsSlash32)
{
    auto cidr = parse_ipv4_cidr("203.0.113.7");
    ASSERT_TRUE(cidr);
    EXPECT_EQ(cidr->prefix, 32u);
    EXPECT_EQ(to_string(*cidr), "203.0.113.7/32");
}

TEST(Ipv4, Cidr_HostBitsSet_IsRefusedWithSuggestion)
{
    auto cidr = parse_ipv4_cidr("10.1.2.3/8");
    ASSERT_FALSE(cidr);
    EXPECT_NE(cidr.error().message.find("10.0.0.0/8"), std::string::npos) << cidr.error().message;
}

TEST(Ipv4, Cidr_BadPrefix_IsRefused)
{
    for (char const* text : { "1.2.3.4/", "1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4/08", "1.2.3.4/3a", "1.2.3.4//32", "/8" })
        EXPECT_FALSE(parse_ipv4_cidr(text)) << text;
    auto everything = parse_ipv4_cidr("0.0.0.0/0");
    ASSERT_TRUE(everything);
    EXPECT_TRUE(everything->contains(Ipv4Address { 0xffffffffu }));
}

TEST(Ipv4, Cidr_ContainsAndOverlaps_FollowThePrefix)
{
    auto big = *parse_ipv4_cidr("172.16.0.0/12");
    auto inside = *parse_ipv4_cidr("172.31.255.0/24");
    auto outside = *parse_ipv4_cidr("172.32.0.0/16");
    EXPECT_TRUE(big.overlaps(inside));
    EXPECT_TRUE(inside.overlaps(big));
    EXPECT_FALSE(big.overlaps(outside));
    EXPECT_TRUE(big.contains(*parse_ipv4_address("172.20.1.1")));
    EXPECT_FALSE(big.contains(*parse_ipv4_address("172.32.0.1")));
}
