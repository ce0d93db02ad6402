// The container NIC's pure parts: which address the VM takes, the default gateway in
// /proc/net/route's text (malformed tables refused), the record's JSON and the tap network.
#include "sdk/oci/container_nic.hpp"

#include <gtest/gtest.h>

using namespace husk;
using namespace husk::oci;

namespace {

// As the kernel prints it in podman's namespace: eth0 10.88.0.5/16, default via 10.88.0.1.
constexpr char const* podman_routes
    = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT \n"
      "eth0\t00000000\t0100580A\t0003\t0\t0\t0\t00000000\t0\t0\t0 \n"
      "eth0\t0000580A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0 \n";

InterfaceAddress address(std::string name, uint32_t value, unsigned prefix, bool loopback = false)
{
    return InterfaceAddress { std::move(name), Ipv4Address { value }, prefix, loopback };
}

} // namespace

TEST(ContainerNic, TheOneNonLoopbackAddressGoesToTheVm)
{
    auto chosen = address_for_the_vm({ address("lo", 0x7f000001, 8, true), address("eth0", 0x0a580005, 16) });
    ASSERT_TRUE(chosen) << chosen.error().message;
    ASSERT_TRUE(*chosen);
    EXPECT_EQ((*chosen)->interface, "eth0");
    EXPECT_EQ((*chosen)->prefix, 16u);
}

TEST(ContainerNic, OnlyLoopbackMeansNoNic)
{
    auto chosen = address_for_the_vm({ address("lo", 0x7f000001, 8, true) });
    ASSERT_TRUE(chosen) << chosen.error().message;
    EXPECT_FALSE(*chosen);
    auto nothing = address_for_the_vm({});
    ASSERT_TRUE(nothing);
    EXPECT_FALSE(*nothing);
}

TEST(ContainerNic, SeveralAddressesAreRefusedNamingThem)
{
    auto chosen = address_for_the_vm({ address("eth0", 0x0a580005, 16), address("eth1", 0x0a590005, 16) });
    ASSERT_FALSE(chosen);
    EXPECT_NE(chosen.error().message.find("eth0 10.88.0.5, eth1 10.89.0.5"), std::string::npos)
        << chosen.error().message;
    EXPECT_FALSE(address_for_the_vm({ address("eth0", 0x0a580005, 16), address("eth0", 0x0a580006, 16) }));
}

TEST(ContainerNic, DefaultGatewayIsReadFromTheRouteTable)
{
    auto gateway = default_gateway(podman_routes, "eth0");
    ASSERT_TRUE(gateway) << gateway.error().message;
    ASSERT_TRUE(*gateway);
    EXPECT_EQ(to_string(**gateway), "10.88.0.1");
    auto elsewhere = default_gateway(podman_routes, "eth1");
    ASSERT_TRUE(elsewhere);
    EXPECT_FALSE(*elsewhere);
}

TEST(ContainerNic, RoutesThatAreNotADefaultGatewayRouteAreSkipped)
{
    // A link route only, and a default route that is down (no RTF_UP).
    auto gateway = default_gateway("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
                                   "eth0\t0000580A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
                                   "eth0\t00000000\t0100580A\t0002\t0\t0\t0\t00000000\t0\t0\t0\n",
        "eth0");
    ASSERT_TRUE(gateway) << gateway.error().message;
    EXPECT_FALSE(*gateway);
    auto empty = default_gateway("", "eth0");
    ASSERT_TRUE(empty);
    EXPECT_FALSE(*empty);
}

TEST(ContainerNic, MalformedRouteTablesAreRefused)
{
    constexpr char const* header = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n";
    EXPECT_FALSE(default_gateway(std::string(header) + "eth0\t00000000\t0100580A\n", "eth0"));
    EXPECT_FALSE(default_gateway(std::string(header) + "eth0\tzz000000\t0100580A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n", "eth0"));
    EXPECT_FALSE(default_gateway(std::string(header) + "eth0\t00000000\t10100580A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n", "eth0"));
    EXPECT_FALSE(default_gateway(std::string(header) + "eth0\t00000000\t0100580A\t-3\t0\t0\t0\t00000000\t0\t0\t0\n", "eth0"));
}

TEST(ContainerNic, RecordRoundTripsThroughJson)
{
    ContainerNic nic { "/run/netns/netns-1", 4, 4026532300, "eth0", "5e:10:aa:bb:cc:dd", "10.88.0.5/16", "10.88.0.1" };
    auto parsed = parse_nic(nic_to_json(nic));
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(*parsed, nic);
}

TEST(ContainerNic, MalformedRecordsAreRefused)
{
    EXPECT_FALSE(parse_nic(""));
    EXPECT_FALSE(parse_nic("[]"));
    EXPECT_FALSE(parse_nic(R"({"netns":"/n","netnsDevice":1,"interface":"eth0","mac":"m","address":"a","gateway":""})"));
    EXPECT_FALSE(parse_nic(
        R"({"netns":"n","netnsDevice":1,"netnsInode":2,"interface":"eth0","mac":"m","address":"a","gateway":""})"));
    EXPECT_FALSE(parse_nic(
        R"({"netns":"/n","netnsDevice":-1,"netnsInode":2,"interface":"eth0","mac":"m","address":"a","gateway":""})"));
    EXPECT_FALSE(parse_nic(
        R"({"netns":"/n","netnsDevice":1,"netnsInode":2,"interface":"","mac":"m","address":"a","gateway":""})"));
    EXPECT_FALSE(parse_nic(
        R"({"netns":"/n","netnsDevice":1,"netnsInode":2,"interface":"eth0","mac":"m","address":"a","gateway":7})"));
}

TEST(ContainerNic, TheVmJoinsTheNamespaceOnTheTapWithTheInterfacesIdentity)
{
    ContainerNic nic { "/proc/42/ns/net", 4, 5, "eth0", "5e:10:aa:bb:cc:dd", "10.88.0.5/16", "10.88.0.1" };
    EXPECT_EQ(tap_network_for(nic),
        (TapNetwork { "/proc/42/ns/net", nic_tap_name, "5e:10:aa:bb:cc:dd", "10.88.0.5/16", "10.88.0.1" }));
}
