// remove_sandbox_network: processes, host table, veth, namespace.
#include "runtime/net/network_teardown.hpp"

#include "runtime/base/log.hpp"
#include "runtime/net/network_link.hpp"
#include "runtime/net/network_namespace.hpp"
#include "runtime/net/nft_ruleset.hpp"
#include "runtime/net/nftables.hpp"

#include <csignal>
#include <sys/wait.h>

namespace husk {

namespace {
    void keep_first(Result<void>& outcome, Result<void> step)
    {
        if (!step && outcome)
            outcome = std::move(step);
    }

    Result<void> stop_processes(std::string const& netns_path)
    {
        for (pid_t pid : processes_in_network_namespace(netns_path)) {
            ::kill(pid, SIGKILL);
            // Ours (the DNS forwarder started by this launcher) is reaped here; one a dead
            // launcher left behind belongs to init now, which reaps it.
            (void)::waitpid(pid, nullptr, 0);
        }
        return {};
    }

    Result<void> remove_host_table(SandboxAddresses const& addresses)
    {
        auto nftables = TRY(Nftables::create());
        if (!nftables.has_table(addresses.host_table_name()))
            return {};
        return nftables.apply(host_ruleset_removal(addresses));
    }
} // namespace

Result<void> remove_sandbox_network(SandboxAddresses const& addresses)
{
    Result<void> outcome;
    auto netns = addresses.netns_name();
    if (named_network_namespace_exists(netns))
        keep_first(outcome, stop_processes(named_netns_path(netns)));
    keep_first(outcome, remove_host_table(addresses));
    keep_first(outcome, delete_network_link(addresses.host_veth_name()));
    keep_first(outcome, delete_named_network_namespace(netns));
    return outcome;
}

bool sandbox_network_leftovers_exist(SandboxAddresses const& addresses)
{
    if (named_network_namespace_exists(addresses.netns_name()) || network_link_exists(addresses.host_veth_name()))
        return true;
    auto nftables = Nftables::create();
    return nftables && nftables->has_table(addresses.host_table_name());
}

} // namespace husk
