// host_ipv4_addresses through getifaddrs.
#include "runtime/net/host_addresses.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

namespace husk {

Result<std::vector<Ipv4Address>> host_ipv4_addresses()
{
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0)
        return fail_errno("listing the host's addresses");
    std::vector<Ipv4Address> addresses;
    for (auto* entry = list; entry != nullptr; entry = entry->ifa_next) {
        if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET)
            continue;
        auto const* inet = reinterpret_cast<sockaddr_in const*>(entry->ifa_addr);
        addresses.push_back(Ipv4Address { ntohl(inet->sin_addr.s_addr) });
    }
    ::freeifaddrs(list);
    return addresses;
}

} // namespace husk
