// SandboxNetwork::create and tear_down: iproute2 for links and addresses (set-up only),
// libnftables for the rules, dnsmasq for names.
#include "runtime/net/sandbox_network.hpp"

#include "runtime/base/fd.hpp"
#include "runtime/base/log.hpp"
#include "runtime/net/allowed_name_resolution.hpp"
#include "runtime/net/dns_forwarder.hpp"
#include "runtime/net/host_addresses.hpp"
#include "runtime/net/host_command.hpp"
#include "runtime/net/network_namespace.hpp"
#include "runtime/net/network_reaper.hpp"
#include "runtime/net/network_teardown.hpp"
#include "runtime/net/nft_ruleset.hpp"
#include "runtime/net/nftables.hpp"

#include <csignal>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace husk {

namespace {
    constexpr size_t resolv_conf_limit = 64 * 1024;

    std::string with_prefix(Ipv4Address address, unsigned prefix)
    {
        return to_string(address) + "/" + std::to_string(prefix);
    }

    Result<std::vector<Ipv4Address>> dns_upstreams(SandboxNetworkRequest const& request)
    {
        if (!request.dns_upstreams.empty())
            return request.dns_upstreams;
        auto text = read_file("/etc/resolv.conf", resolv_conf_limit);
        auto servers = text ? upstream_servers_from_resolv_conf(*text) : std::vector<Ipv4Address> {};
        if (servers.empty())
            return fail("no DNS server a sandbox can reach: /etc/resolv.conf names none but loopback resolvers "
                        "(give one with husk-vmm --net-dns ADDRESS)");
        return servers;
    }
} // namespace

std::string SandboxNetwork::namespace_path() const { return named_netns_path(m_addresses.netns_name()); }

std::string SandboxNetwork::guest_kernel_arguments() const
{
    std::string arguments = "husk.ip=" + to_string(m_addresses.guest) + "/"
        + std::to_string(m_addresses.guest_link.prefix) + " husk.gw=" + to_string(m_addresses.gateway);
    if (m_dns_forwarder)
        arguments += " husk.dns=" + to_string(m_addresses.gateway);
    return arguments;
}

Result<std::unique_ptr<SandboxNetwork>> SandboxNetwork::create(SandboxNetworkRequest const& request)
{
    if (!request.policy.has_network())
        return fail("a sandbox network needs a policy other than none");
    if (::geteuid() != 0)
        return fail("sandbox networking needs root (it creates a network namespace, a tap and nftables rules); "
                    "run husk-vmm --jail as root, or use --net none");
    TRY(check_published_ports(request.published));
    TRY_CONTEXT(reap_abandoned_networks(request.state_directory), "reaping abandoned sandbox networks");
    auto lease = TRY(AddressLease::claim(request.state_directory, static_cast<uint32_t>(::getpid()), request.owner));
    auto addresses = sandbox_addresses(lease.slot());
    // A slot is only free once its network is gone; a lock file lost with /run is no proof.
    TRY_CONTEXT(
        remove_sandbox_network(addresses), "removing an earlier network of slot " + std::to_string(lease.slot()));
    std::unique_ptr<SandboxNetwork> network(new SandboxNetwork(std::move(lease), addresses));
    if (auto built = network->build(request); !built) {
        network->tear_down();
        return unexpected(std::move(built).error());
    }
    return network;
}

Result<void> SandboxNetwork::build(SandboxNetworkRequest const& request)
{
    auto ip = TRY(find_host_tool("ip", "iproute2"));
    auto const& a = m_addresses;
    auto netns = a.netns_name();
    auto veth = a.host_veth_name();
    std::string uplink = sandbox_uplink_name;
    std::string tap = sandbox_tap_name;
    // Two `ip -batch` runs instead of a dozen commands: each fork and exec counts at start-up.
    std::string host_side = "link add " + veth + " type veth peer name " + uplink + " netns " + netns + "\n"
        + "addr add " + with_prefix(a.host_end, 30) + " dev " + veth + "\n" + "link set " + veth + " up\n";
    std::string sandbox_side = "link set lo up\n"
        + ("addr add " + with_prefix(a.sandbox_end, 30) + " dev " + uplink + "\n") + ("link set " + uplink + " up\n")
        + ("route add default via " + to_string(a.host_end) + "\n")
        + ("tuntap add dev " + tap + " mode tap vnet_hdr user " + std::to_string(request.tap_uid) + " group "
            + std::to_string(request.tap_gid) + "\n")
        + ("addr add " + with_prefix(a.gateway, 30) + " dev " + tap + "\n") + ("link set " + tap + " up\n");

    TRY(create_named_network_namespace(ip, netns));
    TRY(run_host_command({ ip, "-batch", "-" }, host_side));
    TRY(run_host_command({ ip, "-n", netns, "-batch", "-" }, sandbox_side));
    TRY(run_host_command(
        { ip, "route", "add", to_string(a.guest_link), "via", to_string(a.sandbox_end), "dev", veth }));

    SandboxRulesInput rules;
    rules.addresses = a;
    // Allowed names open their current addresses from the start; the forwarder adds later ones.
    auto resolved = resolve_allowed_names(request.policy, resolve_ipv4_on_host);
    for (auto const& note : resolved.notes)
        log_info("network: " + note);
    rules.policy = std::move(resolved.policy);
    rules.published = request.published;
    rules.host_addresses = TRY(host_ipv4_addresses());
    rules.dns_forwarder = needs_dns_forwarder(request.policy);
    TRY(in_network_namespace(namespace_path(), [&]() -> Result<void> {
        TRY(write_sysctl("/proc/sys/net/ipv4/ip_forward", "1"));
        // IPv6 is not part of any policy yet: no addresses, no router advertisements.
        (void)write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
        (void)write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
        auto nftables = TRY(Nftables::create());
        TRY_CONTEXT(nftables.apply(sandbox_ruleset(rules)), "the sandbox's rules");
        return {};
    }));
    auto nftables = TRY(Nftables::create());
    TRY_CONTEXT(nftables.apply(host_ruleset(a, request.published, rules.host_addresses)), "the host-side rules");
    // Forwarding between the host's interfaces is what lets the sandbox out at all (as docker
    // and libvirt do); the sandbox's own table decides what may pass.
    TRY(write_sysctl("/proc/sys/net/ipv4/ip_forward", "1"));
    if (rules.dns_forwarder)
        TRY(start_dns_forwarder(request));
    return {};
}

Result<void> SandboxNetwork::start_dns_forwarder(SandboxNetworkRequest const& request)
{
    auto dnsmasq = TRY(find_host_tool("dnsmasq", "dnsmasq-base"));
    auto upstreams = TRY(dns_upstreams(request));
    std::vector<std::string> argv { dnsmasq };
    for (auto& argument : dnsmasq_arguments(m_addresses, request.policy, upstreams))
        argv.push_back(std::move(argument));
    auto started = TRY(start_in_network_namespace(namespace_path(), argv));
    m_dns_forwarder = started.pid;
    // dnsmasq reports a bad option or a failed bind on stderr and exits at once. Later it logs
    // nowhere (--log-facility=/dev/null) and ignores SIGPIPE, so its stderr can be closed.
    constexpr useconds_t settle = 20'000;
    ::usleep(settle);
    int status = 0;
    if (::waitpid(started.pid, &status, WNOHANG) == started.pid) {
        m_dns_forwarder.reset();
        char message[512] = {};
        ssize_t got = ::read(started.errors.get(), message, sizeof message - 1);
        std::string text = got > 0 ? std::string(message, static_cast<size_t>(got)) : std::string("no message");
        while (!text.empty() && text.back() == '\n')
            text.pop_back();
        return fail("the DNS forwarder (dnsmasq) exited at start: " + text);
    }
    return {};
}

void SandboxNetwork::tear_down()
{
    if (!m_lease.held())
        return;
    if (m_dns_forwarder) {
        ::kill(*m_dns_forwarder, SIGKILL);
        (void)::waitpid(*m_dns_forwarder, nullptr, 0);
        m_dns_forwarder.reset();
    }
    if (auto removed = remove_sandbox_network(m_addresses); !removed) {
        log_error("network teardown: " + removed.error().message + " (the next start reaps it)");
        m_lease.abandon();
        return;
    }
    m_lease.release();
}

} // namespace husk
