// reap_abandoned_networks: every slot-N lock file nobody holds.
#include "runtime/net/network_reaper.hpp"

#include "runtime/base/log.hpp"
#include "runtime/net/address_lease.hpp"
#include "runtime/net/network_teardown.hpp"
#include "runtime/net/sandbox_addresses.hpp"

#include <charconv>
#include <dirent.h>
#include <string_view>
#include <vector>

namespace husk {

namespace {
    std::vector<uint32_t> slots_in(std::string const& directory)
    {
        std::vector<uint32_t> slots;
        DIR* listing = ::opendir(directory.c_str());
        if (listing == nullptr)
            return slots;
        while (auto* entry = ::readdir(listing)) {
            std::string_view name = entry->d_name;
            if (!name.starts_with("slot-"))
                continue;
            name.remove_prefix(5);
            uint32_t slot = 0;
            auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), slot);
            if (error == std::errc {} && end == name.data() + name.size() && slot < sandbox_slot_count)
                slots.push_back(slot);
        }
        ::closedir(listing);
        return slots;
    }
} // namespace

Result<size_t> reap_abandoned_networks(std::string const& state_directory)
{
    size_t reaped = 0;
    for (uint32_t slot : slots_in(state_directory)) {
        auto lease = TRY(AddressLease::claim_if_abandoned(state_directory, slot));
        if (!lease.held())
            continue;
        auto addresses = sandbox_addresses(slot);
        if (auto removed = remove_sandbox_network(addresses); !removed) {
            log_warn("network reaper: slot " + std::to_string(slot) + ": " + removed.error().message);
            lease.abandon(); // the lock file stays: the next start tries again
            continue;
        }
        log_info(
            "network reaper: removed the network of a sandbox whose launcher died (slot " + std::to_string(slot) + ")");
        ++reaped;
    }
    return reaped;
}

} // namespace husk
