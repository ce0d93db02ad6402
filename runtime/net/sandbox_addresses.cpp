// sandbox_addresses: slot -> the /29 and the four addresses in it.
#include "runtime/net/sandbox_addresses.hpp"

namespace husk {

SandboxAddresses sandbox_addresses(uint32_t slot)
{
    constexpr uint32_t block_size = uint32_t { 1 } << (32 - sandbox_block_prefix);
    uint32_t base = sandbox_address_pool.address.value + (slot % sandbox_slot_count) * block_size;
    SandboxAddresses addresses;
    addresses.slot = slot % sandbox_slot_count;
    addresses.block = { Ipv4Address { base }, sandbox_block_prefix };
    addresses.host_end = { base + 1 };
    addresses.sandbox_end = { base + 2 };
    addresses.gateway = { base + 5 };
    addresses.guest = { base + 6 };
    addresses.guest_link = { Ipv4Address { base + 4 }, 30 };
    return addresses;
}

} // namespace husk
