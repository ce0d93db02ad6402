// husk-oci's parsers of caller-supplied JSON: config.json, exec's process.json, the state.json and
// network.json records under --root (and the route table text), on arbitrary bytes. Any input must give a value or an error, never a crash,
// an exception or a hang; a parsed config must have the invariants `create` relies on, and its
// mounts planned against a made-up host (each path's kind from its length) must give shares whose
// guest paths pass the shared mount-path rules, or a refusal naming the mount.
#include "guest-init/protocol/share_names.hpp"
#include "sdk/oci/container_mounts.hpp"
#include "sdk/oci/container_nic.hpp"
#include "sdk/oci/container_state.hpp"
#include "sdk/oci/oci_config.hpp"
#include "sdk/oci/signal_name.hpp"

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    std::string_view text(reinterpret_cast<char const*>(data), size);
    if (auto config = husk::oci::parse_oci_config(text)) {
        if (config->process.args.empty() || config->process.args[0].empty() || config->process.cwd.empty()
            || config->process.cwd[0] != '/' || config->root_path.empty())
            abort();
        auto kind_of = [](std::string const& path) { return static_cast<husk::oci::HostFileKind>(path.size() % 4); };
        if (auto plan = husk::oci::plan_container_mounts(config->mounts, kind_of)) {
            if (plan->shares.size() > 7)
                abort();
            for (auto const& share : plan->shares) {
                if (!husk::protocol::guest_mount_path_problem(share.guest).empty() || share.host.empty()
                    || share.host[0] != '/')
                    abort();
            }
        } else if (plan.error().message.find("mounts[") != 0) {
            abort();
        }
    }
    if (auto process = husk::oci::parse_oci_process(text)) {
        if (process->args.empty())
            abort();
    }
    if (auto record = husk::oci::parse_record(text)) {
        if (record->pid < 0)
            abort();
        (void)husk::oci::oci_state_json(*record, record->status);
    }
    if (size < 64)
        (void)husk::oci::parse_signal(text);
    // network.json under --root, and the kernel's route table text the NIC's gateway comes from.
    if (auto nic = husk::oci::parse_nic(text)) {
        if (nic->netns.empty() || nic->netns[0] != '/' || nic->interface.empty())
            abort();
        (void)husk::oci::nic_to_json(*nic);
    }
    (void)husk::oci::default_gateway(text, "eth0");
    return 0;
}
