// husk-vmm command line: options, their parser and the kernel command line built from them.
// Pure functions (no I/O) so every rejection path is unit-tested.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/boot/layout.hpp"
#include "runtime/main/disk_option.hpp"
#include "runtime/net/network_policy.hpp"
#include "runtime/net/published_port.hpp"
#include "runtime/main/net_tap_option.hpp"
#include "runtime/main/rootfs_option.hpp"
#include "runtime/main/share_option.hpp"
#include "runtime/vmm/machine_config.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace husk {

struct VmmOptions {
    std::string kernel_path;
    std::optional<std::string> initrd_path;
    std::string extra_cmdline; // --cmdline, appended after the husk defaults
    uint64_t memory_bytes { default_memory_bytes };
    unsigned vcpus { 1 };
    SerialOutput serial; // off by default: fast boot, `quiet`
    std::optional<std::chrono::milliseconds> timeout;
    std::optional<std::string> report_path;
    std::optional<std::string> vsock_path; // --vsock: the hybrid-vsock unix socket
    uint64_t vsock_cid { default_guest_cid };
    // --vsock-hold-until-agent: VsockConfig::hold_until_agent_listens.
    bool vsock_hold_until_agent { false };
    std::vector<DiskOption> disks; // --disk, in order: /dev/vda, /dev/vdb, ...
    std::optional<NetConfig> net_tap; // --net-tap: virtio-net on that tap (the guest's eth0)
    std::optional<NetConfig> net_stream; // --net-stream: virtio-net on passt's frame stream
    std::vector<ShareOption> shares; // --share, in order (virtio-9p slots after the disks)
    bool debug { false };
    // For bench/boot: stop cleanly when husk-init writes its boot marker, or exit once the VM is
    // fully built, before the first KVM_RUN (host-side setup time).
    bool exit_at_boot_marker { false };
    bool exit_before_run { false };
    // --profile-setup: log the setup profile (runtime/base/setup_profile.hpp) when the VM stops.
    bool profile_setup { false };
    // Debugging opt-out of the per-thread seccomp filters (they are on by default).
    bool no_seccomp { false };
    // --jail DIR: run the VM jailed (runtime/main/jailed_launch.hpp) with its root in DIR/<id>.
    std::optional<std::string> jail_directory;
    std::optional<std::string> jail_id; // default: vmm-<pid>
    std::optional<uint32_t> jail_uid;
    std::optional<uint32_t> jail_gid;
    // --jail-memory-limit: the cgroup's memory limit; default guest RAM + the VMM's own overhead.
    std::optional<uint64_t> jail_memory_limit;
    // Sandbox networking (runtime/net/): --net MODE (default none: no network device at all),
    // --publish HOST:GUEST (repeatable), --net-dns ADDRESS (repeatable: the DNS forwarder's
    // upstream servers; default those of /etc/resolv.conf). Anything but none needs --jail.
    NetworkPolicy network;
    std::vector<PublishedPort> published;
    std::vector<Ipv4Address> net_dns;
    // --net-guest-file PATH: where the launcher writes the guest's settings of --net (the words of
    // SandboxNetwork::guest_kernel_arguments). A restored guest booted on another network: the
    // SDK reads them there and hands them to the agent (Refresh).
    std::optional<std::string> net_guest_file;
    // --reap-networks: only reap abandoned sandbox networks (runtime/net/network_reaper.hpp)
    // and exit; libhusk runs it after it had to kill a networked sandbox's launcher.
    bool reap_networks { false };
    // --control PATH: the control socket (pause, resume, snapshot).
    std::optional<std::string> control_path;
    // --restore DIR: resume a snapshot instead of booting; --memory/--vcpus are then checks.
    std::optional<std::string> restore_directory;
    bool memory_given { false };
    bool vcpus_given { false };
    // --rootfs DIR[,rw]: the guest's root from a host directory. Parsing adds its share to
    // `shares` (tag rootfs); build_kernel_cmdline adds husk.root=9p:rootfs[:rw].
    std::optional<RootfsOption> rootfs;
    // --net-namespace PATH (with --jail and --net-tap): the jailed VMM joins that existing network
    // namespace (/run/netns/NAME, /proc/PID/ns/net) instead of a new, empty one, and attaches to
    // the --net-tap there: how husk-oci puts a container's VM on its engine's network.
    std::optional<std::string> net_namespace;
    // --memory-hugepages on|off: transparent huge pages for guest RAM (runtime/memory/huge_pages.hpp).
    HugePages memory_huge_pages { default_memory_huge_pages };
    bool help { false }; // --help seen: print usage, exit 0, nothing else is checked
    std::vector<std::string> job_argv; // everything after `--`
};

inline constexpr unsigned max_vcpus = 32;

// argv as main() receives it (argv[0] is the program name). Accepts `--name value` and
// `--name=value`. Unknown or duplicated options, missing values and stray arguments are errors.
Result<VmmOptions> parse_vmm_options(std::span<char const* const> argv);

std::string vmm_usage();

// Refused up front rather than losing job arguments. Machine adds its virtio-mmio device
// arguments and checks the limit again.
inline constexpr size_t kernel_cmdline_max_length = layout::linux_cmdline_max_length;
// The kernel hands at most CONFIG_INIT_ENV_ARG_LIMIT (32) arguments to init, argv[0] included,
// and panics ("Too many boot init vars") beyond that.
inline constexpr size_t max_job_arguments = 31;

// The complete kernel command line: husk defaults, serial console settings, --cmdline, then
// ` -- ` and each job argument double-quoted for the kernel's parser (lib/cmdline.c next_arg).
// `guest_network` (husk.ip=... from SandboxNetwork) and --rootfs's husk.root= go before
// --cmdline's arguments.
Result<std::string> build_kernel_cmdline(VmmOptions const& options, std::string_view guest_network = {});

MachineConfig machine_config_from(VmmOptions const& options, std::string cmdline);

} // namespace husk
