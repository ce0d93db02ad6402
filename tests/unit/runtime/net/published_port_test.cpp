// Tests for runtime/net/published_port: HOST:GUEST[/tcp].
#include "runtime/net/published_port.hpp"

#include <gtest/gtest.h>
#include <vector>

using namespace husk;

TEST(PublishedPort, Publish_HostAndGuest_Parse)
{
    auto port = parse_published_port("8080:80");
    ASSERT_TRUE(port) << port.error().message;
    EXPECT_EQ(*port, (PublishedPort { 8080, 80 }));
    EXPECT_EQ(to_string(*port), "8080:80");
    auto tcp = parse_published_port("1:65535/tcp");
    ASSERT_TRUE(tcp);
    EXPECT_EQ(*tcp, (PublishedPort { 1, 65535 }));
}

TEST(PublishedPort, Publish_Malformed_IsRefused)
{
    for (char const* text :
        { "", "80", ":80", "80:", "0:80", "80:0", "65536:80", "80:65536", "080:80", "a:b", "80:80:80", "80:80/udp",
            "80:80/", "80:80/tcp/tcp", "-1:80", "+80:80", " 80:80", "80 :80", "1.2.3.4:80:80" })
        EXPECT_FALSE(parse_published_port(text)) << text;
}

TEST(PublishedPort, Publish_Udp_IsRefusedWithAReason)
{
    auto port = parse_published_port("53:53/udp");
    ASSERT_FALSE(port);
    EXPECT_NE(port.error().message.find("TCP"), std::string::npos);
}

TEST(PublishedPort, Check_HostPortTwice_IsRefused)
{
    std::vector<PublishedPort> ports { { 8080, 80 }, { 8081, 80 } };
    EXPECT_TRUE(check_published_ports(ports));
    ports.push_back({ 8080, 81 });
    EXPECT_FALSE(check_published_ports(ports));
}

TEST(PublishedPort, Check_TooMany_IsRefused)
{
    std::vector<PublishedPort> ports;
    for (uint16_t i = 0; i <= max_published_ports; ++i)
        ports.push_back({ static_cast<uint16_t>(10000 + i), 80 });
    EXPECT_FALSE(check_published_ports(ports));
}
