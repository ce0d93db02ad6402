// resolve_allowed_names: one lookup per allowed name; usable answers become /32 entries.
#include "runtime/net/allowed_name_resolution.hpp"

#include <algorithm>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>
#include <set>
#include <sys/socket.h>

namespace husk {

namespace {
    // A name with more records than this is still allowed through the forwarder.
    constexpr size_t max_addresses_per_name = 32;

    bool always_denied(Ipv4Address address)
    {
        auto denied = always_denied_ipv4();
        return std::any_of(denied.begin(), denied.end(), [&](auto const& block) { return block.contains(address); });
    }
} // namespace

Result<std::vector<Ipv4Address>> resolve_ipv4_on_host(std::string const& name)
{
    addrinfo hints {};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM; // one entry per address, not one per socket type
    addrinfo* found = nullptr;
    if (int status = ::getaddrinfo(name.c_str(), nullptr, &hints, &found); status != 0)
        return fail(std::string(::gai_strerror(status)));
    std::vector<Ipv4Address> addresses;
    for (auto* entry = found; entry; entry = entry->ai_next) {
        if (entry->ai_family != AF_INET || entry->ai_addrlen < sizeof(sockaddr_in))
            continue;
        sockaddr_in address {};
        std::memcpy(&address, entry->ai_addr, sizeof address);
        addresses.push_back(Ipv4Address { ntohl(address.sin_addr.s_addr) });
    }
    ::freeaddrinfo(found);
    return addresses;
}

ResolvedNames resolve_allowed_names(NetworkPolicy const& policy, Ipv4Resolver const& resolve)
{
    ResolvedNames result { policy, {} };
    if (policy.mode != NetworkMode::Allow)
        return result;
    for (auto const& name : policy.names) {
        auto label = name.name + (name.port ? ":" + std::to_string(*name.port) : std::string());
        auto found = resolve(name.name);
        if (!found) {
            result.notes.push_back(label + " did not resolve on the host (" + found.error().message
                + "): allowed once the guest resolves it");
            continue;
        }
        std::set<Ipv4Address> unique(found->begin(), found->end());
        std::string added;
        std::string skipped;
        size_t count = 0;
        for (auto address : unique) {
            if (always_denied(address)) {
                skipped += (skipped.empty() ? "" : " ") + to_string(address);
                continue;
            }
            if (count++ == max_addresses_per_name)
                break;
            // An address an entry already allows is not added again: nft refuses overlapping
            // intervals in the address-and-port set.
            auto& allowed = result.policy.addresses;
            bool covered = std::any_of(allowed.begin(), allowed.end(), [&](AllowedAddress const& entry) {
                return entry.cidr.contains(address) && (!entry.port || entry.port == name.port);
            });
            if (!covered)
                allowed.push_back(AllowedAddress { Ipv4Cidr { address, 32 }, name.port });
            added += (added.empty() ? "" : " ") + to_string(address);
        }
        std::string note = label + " resolved on the host to " + (added.empty() ? std::string("nothing usable") : added);
        if (!skipped.empty())
            note += " (always denied, left out: " + skipped + ")";
        result.notes.push_back(note);
    }
    return result;
}

} // namespace husk
