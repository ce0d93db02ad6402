// Tests for runtime/net/sandbox_addresses: the /29 per slot and the names derived from it.
#include "runtime/net/network_policy.hpp"
#include "runtime/net/sandbox_addresses.hpp"

#include <gtest/gtest.h>
#include <set>

using namespace husk;

TEST(SandboxAddresses, Slot0_IsTheFirstBlock)
{
    auto a = sandbox_addresses(0);
    EXPECT_EQ(to_string(a.block), "10.231.0.0/29");
    EXPECT_EQ(to_string(a.host_end), "10.231.0.1");
    EXPECT_EQ(to_string(a.sandbox_end), "10.231.0.2");
    EXPECT_EQ(to_string(a.gateway), "10.231.0.5");
    EXPECT_EQ(to_string(a.guest), "10.231.0.6");
    EXPECT_EQ(to_string(a.guest_link), "10.231.0.4/30");
    EXPECT_EQ(a.netns_name(), "husk-net-0");
    EXPECT_EQ(a.host_veth_name(), "husk-v0");
    EXPECT_EQ(a.host_table_name(), "husk_0");
}

TEST(SandboxAddresses, EverySlot_HasItsOwnBlockInsideThePoolAndAlwaysDenied)
{
    std::set<uint32_t> blocks;
    for (uint32_t slot = 0; slot < sandbox_slot_count; ++slot) {
        auto a = sandbox_addresses(slot);
        EXPECT_TRUE(blocks.insert(a.block.address.value).second) << slot;
        EXPECT_TRUE(sandbox_address_pool.contains(a.guest));
        EXPECT_TRUE(a.block.contains(a.guest) && a.block.contains(a.gateway) && a.block.contains(a.host_end));
        EXPECT_LE(a.host_veth_name().size(), 15u); // IFNAMSIZ - 1
    }
    EXPECT_EQ(to_string(sandbox_addresses(sandbox_slot_count - 1).guest), "10.231.255.254");
    bool denied = false;
    for (auto const& block : always_denied_ipv4())
        denied = denied || block.contains(sandbox_address_pool.address);
    EXPECT_TRUE(denied) << "sandboxes must never reach each other";
}
