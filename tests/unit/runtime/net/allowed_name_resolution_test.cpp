// Allowed names resolved when the policy is built: each usable A record becomes a /32 entry
// with the name's port; always-denied answers, unknown names and covered addresses add nothing.
#include "runtime/net/allowed_name_resolution.hpp"

#include <gtest/gtest.h>
#include <map>

using namespace husk;

namespace {

Ipv4Address address(char const* text) { return *parse_ipv4_address(text); }

Ipv4Resolver fake(std::map<std::string, std::vector<char const*>> table)
{
    return [table](std::string const& name) -> Result<std::vector<Ipv4Address>> {
        auto found = table.find(name);
        if (found == table.end())
            return fail("Name or service not known");
        std::vector<Ipv4Address> addresses;
        for (auto const* text : found->second)
            addresses.push_back(address(text));
        return addresses;
    };
}

} // namespace

TEST(AllowedNameResolution, ResolvedName_EachAddressAllowedWithItsPort)
{
    auto policy = parse_network_policy("allow=pypi.org:443,example.com");
    ASSERT_TRUE(policy);
    auto resolved = resolve_allowed_names(
        *policy, fake({ { "pypi.org", { "198.51.100.7", "198.51.100.8", "198.51.100.7" } }, { "example.com", { "203.0.113.9" } } }));
    auto const& added = resolved.policy.addresses;
    ASSERT_EQ(added.size(), 3u);
    EXPECT_EQ(added[0], (AllowedAddress { Ipv4Cidr { address("198.51.100.7"), 32 }, 443 }));
    EXPECT_EQ(added[1], (AllowedAddress { Ipv4Cidr { address("198.51.100.8"), 32 }, 443 }));
    EXPECT_EQ(added[2], (AllowedAddress { Ipv4Cidr { address("203.0.113.9"), 32 }, std::nullopt }));
    EXPECT_EQ(resolved.policy.names, policy->names); // the forwarder still serves them
    ASSERT_EQ(resolved.notes.size(), 2u);
    EXPECT_NE(resolved.notes[0].find("pypi.org:443 resolved on the host to 198.51.100.7 198.51.100.8"), std::string::npos)
        << resolved.notes[0];
}

TEST(AllowedNameResolution, UnknownName_LeftToTheForwarderWithANote)
{
    auto policy = parse_network_policy("allow=nowhere.test:80");
    ASSERT_TRUE(policy);
    auto resolved = resolve_allowed_names(*policy, fake({}));
    EXPECT_TRUE(resolved.policy.addresses.empty());
    ASSERT_EQ(resolved.notes.size(), 1u);
    EXPECT_NE(resolved.notes[0].find("did not resolve on the host"), std::string::npos) << resolved.notes[0];
}

TEST(AllowedNameResolution, AlwaysDeniedAnswers_NeverAllowed)
{
    auto policy = parse_network_policy("allow=rebind.test");
    ASSERT_TRUE(policy);
    auto resolved = resolve_allowed_names(
        *policy, fake({ { "rebind.test", { "169.254.169.254", "10.0.0.1", "127.0.0.1", "192.168.1.1", "198.51.100.1" } } }));
    ASSERT_EQ(resolved.policy.addresses.size(), 1u);
    EXPECT_EQ(resolved.policy.addresses[0].cidr.address, address("198.51.100.1"));
    EXPECT_NE(resolved.notes[0].find("always denied, left out: 10.0.0.1 127.0.0.1 169.254.169.254 192.168.1.1"),
        std::string::npos)
        << resolved.notes[0];
}

TEST(AllowedNameResolution, AddressAlreadyCovered_NotAddedTwice)
{
    auto policy = parse_network_policy("allow=198.51.100.0/24:80,203.0.113.0/24,covered.test:80,other.test:443");
    ASSERT_TRUE(policy);
    auto resolved = resolve_allowed_names(
        *policy, fake({ { "covered.test", { "198.51.100.20", "203.0.113.5" } }, { "other.test", { "198.51.100.20" } } }));
    // covered.test's answers are inside a same-port block and an any-port block; other.test's
    // port differs from the block's, so it gets its own entry.
    ASSERT_EQ(resolved.policy.addresses.size(), 3u);
    EXPECT_EQ(resolved.policy.addresses[2], (AllowedAddress { Ipv4Cidr { address("198.51.100.20"), 32 }, 443 }));
}

TEST(AllowedNameResolution, NotAnAllowList_Unchanged)
{
    auto policy = parse_network_policy("internet");
    ASSERT_TRUE(policy);
    auto resolved = resolve_allowed_names(*policy, fake({}));
    EXPECT_EQ(resolved.policy, *policy);
    EXPECT_TRUE(resolved.notes.empty());
}

TEST(AllowedNameResolution, HostResolver_ResolvesALiteralAndRefusesGarbage)
{
    auto literal = resolve_ipv4_on_host("198.51.100.3");
    ASSERT_TRUE(literal) << literal.error().message;
    ASSERT_EQ(literal->size(), 1u);
    EXPECT_EQ((*literal)[0], address("198.51.100.3"));
    EXPECT_FALSE(resolve_ipv4_on_host("")); // no lookup leaves the machine
}
