// attach_container_nic / detach_container_nic: getifaddrs and /proc/thread-self/net/route read in
// the engine's namespace, then one `ip -batch` run there.
#include "sdk/oci/container_network.hpp"

#include "runtime/net/host_command.hpp"
#include "runtime/net/mac_address.hpp"
#include "runtime/net/network_link.hpp"
#include "runtime/net/network_namespace.hpp"
#include "sdk/oci/oci_config.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/stat.h>

namespace husk::oci {

namespace {

    struct NamespaceView {
        std::vector<InterfaceAddress> addresses;
        std::vector<std::pair<std::string, MacAddress>> macs;
    };

    Result<NamespaceView> look_around()
    {
        ifaddrs* list = nullptr;
        if (::getifaddrs(&list) != 0)
            return fail_errno("getifaddrs in the container's network namespace");
        NamespaceView view;
        for (auto* entry = list; entry != nullptr; entry = entry->ifa_next) {
            if (entry->ifa_addr == nullptr || entry->ifa_name == nullptr)
                continue;
            if (entry->ifa_addr->sa_family == AF_INET && entry->ifa_netmask != nullptr) {
                auto const* address = reinterpret_cast<sockaddr_in const*>(entry->ifa_addr);
                auto const* mask = reinterpret_cast<sockaddr_in const*>(entry->ifa_netmask);
                view.addresses.push_back({ entry->ifa_name, Ipv4Address { ntohl(address->sin_addr.s_addr) },
                    static_cast<unsigned>(__builtin_popcount(mask->sin_addr.s_addr)),
                    (entry->ifa_flags & IFF_LOOPBACK) != 0 });
            } else if (entry->ifa_addr->sa_family == AF_PACKET) {
                auto const* link = reinterpret_cast<sockaddr_ll const*>(entry->ifa_addr);
                MacAddress mac {};
                if (link->sll_halen == mac.size()) {
                    std::copy_n(link->sll_addr, mac.size(), mac.begin());
                    view.macs.emplace_back(entry->ifa_name, mac);
                }
            }
        }
        ::freeifaddrs(list);
        return view;
    }

    Result<std::pair<uint64_t, uint64_t>> namespace_identity(std::string const& path)
    {
        struct stat info { };
        if (::stat(path.c_str(), &info) != 0)
            return fail_errno("the container's network namespace " + path);
        return std::pair<uint64_t, uint64_t>(info.st_dev, info.st_ino);
    }

    // In the namespace: the bridge and the tap go, the interface gets back what it had. Each step
    // tolerates what is already undone (a half-built NIC is undone this way too).
    Result<void> undo_in_namespace(std::string const& ip, ContainerNic const& nic)
    {
        TRY(delete_network_link(nic_tap_name));
        TRY(delete_network_link(nic_bridge_name));
        if (!network_link_exists(nic.interface))
            return {};
        std::string batch = "link set dev " + nic.interface + " address " + nic.mac + "\n" + "addr replace "
            + nic.address + " dev " + nic.interface + "\n" + "link set dev " + nic.interface + " up\n";
        if (!nic.gateway.empty())
            batch += "route replace default via " + nic.gateway + " dev " + nic.interface + "\n";
        return run_host_command({ ip, "-batch", "-" }, batch);
    }

} // namespace

Result<std::optional<ContainerNic>> attach_container_nic(std::string const& netns_path)
{
    auto ip = TRY(find_host_tool("ip", "iproute2"));
    auto identity = TRY(namespace_identity(netns_path));
    std::optional<ContainerNic> attached;
    TRY(in_network_namespace(netns_path, [&]() -> Result<void> {
        if (network_link_exists(nic_bridge_name) || network_link_exists(nic_tap_name))
            return fail(ErrorKind::BadConfig,
                "the network namespace " + netns_path
                    + " already holds another husk-oci container's NIC: containers sharing one network namespace "
                      "(a pod) are not supported");
        auto view = TRY(look_around());
        auto address = TRY(address_for_the_vm(view.addresses));
        if (!address)
            return {};
        auto mac = std::find_if(
            view.macs.begin(), view.macs.end(), [&](auto const& entry) { return entry.first == address->interface; });
        if (mac == view.macs.end())
            return fail("the container's interface " + address->interface + " has no Ethernet address");
        auto routes = TRY(read_small_file("/proc/thread-self/net/route"));
        auto gateway = TRY(default_gateway(routes, address->interface));

        ContainerNic nic;
        nic.netns = netns_path;
        nic.netns_device = identity.first;
        nic.netns_inode = identity.second;
        nic.interface = address->interface;
        nic.mac = format_mac_address(mac->second);
        nic.address = to_string(address->address) + "/" + std::to_string(address->prefix);
        nic.gateway = gateway ? to_string(*gateway) : "";
        // The guest takes the interface's MAC; the interface, now a bridge port, must not keep it
        // too, or the bridge would take the guest's frames for its own. Nor may the bridge learn
        // addresses on that port: the engine's bridge runs it in hairpin mode (podman's default)
        // and sends the guest's broadcasts back, which would move the guest's MAC to that port,
        // and the answers to the guest's ARP requests would then never reach the tap.
        auto replacement = format_mac_address(TRY(random_local_mac_address()));
        std::string bridge = nic_bridge_name, tap = nic_tap_name, port = nic.interface;
        std::string batch = "link add " + bridge + " type bridge\n" + "tuntap add dev " + tap + " mode tap vnet_hdr\n"
            + "addr del " + nic.address + " dev " + port + "\n" + "link set dev " + port + " down\n"
            + "link set dev " + port + " address " + replacement + "\n" + "link set dev " + port + " master " + bridge
            + "\n" + "link set dev " + port + " type bridge_slave learning off\n" + "link set dev " + tap + " master "
            + bridge + "\n" + "link set dev " + port + " up\n"
            + "link set dev " + tap + " up\n" + "link set dev " + bridge + " up\n";
        if (auto built = run_host_command({ ip, "-batch", "-" }, batch); !built) {
            (void)undo_in_namespace(ip, nic);
            return unexpected(std::move(built).error());
        }
        attached = nic;
        return {};
    }));
    return attached;
}

Result<void> detach_container_nic(ContainerNic const& nic)
{
    auto identity = namespace_identity(nic.netns);
    if (!identity || identity->first != nic.netns_device || identity->second != nic.netns_inode)
        return {}; // gone with the engine's teardown, or the path now names another namespace
    auto ip = TRY(find_host_tool("ip", "iproute2"));
    return in_network_namespace(nic.netns, [&] { return undo_in_namespace(ip, nic); });
}

} // namespace husk::oci
