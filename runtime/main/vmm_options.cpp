// husk-vmm option parsing: a small table-driven parser without exceptions.
#include "runtime/main/vmm_options.hpp"

#include "runtime/jail/jail_path.hpp"
#include "runtime/main/disk_option.hpp"
#include "runtime/main/rootfs_option.hpp"
#include "runtime/main/share_option.hpp"
#include "runtime/main/value_parsing.hpp"
#include "virtio/vsock/packet.hpp"

#include <string_view>

namespace husk {

namespace {
    // Numbered densely from 0: used as an index for duplicate detection.
    enum class Option {
        Kernel,
        Initrd,
        Cmdline,
        Memory,
        Vcpus,
        Serial,
        Timeout,
        Report,
        Vsock,
        VsockCid,
        VsockHoldUntilAgent,
        Disk,
        NetTap,
        NetStream,
        Share,
        Debug,
        ExitAtBootMarker,
        ExitBeforeRun,
        NoSeccomp,
        Jail,
        JailId,
        JailUid,
        JailGid,
        JailMemoryLimit,
        Net,
        Publish,
        NetDns,
        ReapNetworks,
        Help,
        Control,
        Restore,
        Rootfs,
        ProfileSetup,
        NetNamespace,
        NetGuestFile,
        MemoryHugePages,
        Count,
    };
    enum class TakesValue { No, Yes };

    struct OptionSpec {
        std::string_view name;
        Option option;
        TakesValue takes_value;
    };

    constexpr OptionSpec option_specs[] = {
        { "--kernel", Option::Kernel, TakesValue::Yes },
        { "--initrd", Option::Initrd, TakesValue::Yes },
        { "--cmdline", Option::Cmdline, TakesValue::Yes },
        { "--memory", Option::Memory, TakesValue::Yes },
        { "--vcpus", Option::Vcpus, TakesValue::Yes },
        { "--serial", Option::Serial, TakesValue::Yes },
        { "--timeout", Option::Timeout, TakesValue::Yes },
        { "--report", Option::Report, TakesValue::Yes },
        { "--vsock", Option::Vsock, TakesValue::Yes },
        { "--vsock-cid", Option::VsockCid, TakesValue::Yes },
        { "--vsock-hold-until-agent", Option::VsockHoldUntilAgent, TakesValue::No },
        { "--disk", Option::Disk, TakesValue::Yes },
        { "--net-tap", Option::NetTap, TakesValue::Yes },
        { "--net-stream", Option::NetStream, TakesValue::Yes },
        { "--share", Option::Share, TakesValue::Yes },
        { "--debug", Option::Debug, TakesValue::No },
        { "--exit-at-boot-marker", Option::ExitAtBootMarker, TakesValue::No },
        { "--exit-before-run", Option::ExitBeforeRun, TakesValue::No },
        { "--no-seccomp", Option::NoSeccomp, TakesValue::No },
        { "--jail", Option::Jail, TakesValue::Yes },
        { "--jail-id", Option::JailId, TakesValue::Yes },
        { "--jail-uid", Option::JailUid, TakesValue::Yes },
        { "--jail-gid", Option::JailGid, TakesValue::Yes },
        { "--jail-memory-limit", Option::JailMemoryLimit, TakesValue::Yes },
        { "--net", Option::Net, TakesValue::Yes },
        { "--publish", Option::Publish, TakesValue::Yes },
        { "--net-dns", Option::NetDns, TakesValue::Yes },
        { "--net-guest-file", Option::NetGuestFile, TakesValue::Yes },
        { "--reap-networks", Option::ReapNetworks, TakesValue::No },
        { "--help", Option::Help, TakesValue::No },
        { "-h", Option::Help, TakesValue::No },
        { "--control", Option::Control, TakesValue::Yes },
        { "--restore", Option::Restore, TakesValue::Yes },
        { "--rootfs", Option::Rootfs, TakesValue::Yes },
        { "--profile-setup", Option::ProfileSetup, TakesValue::No },
        { "--net-namespace", Option::NetNamespace, TakesValue::Yes },
        { "--memory-hugepages", Option::MemoryHugePages, TakesValue::Yes },
    };

    std::string_view option_name(Option option)
    {
        for (auto const& spec : option_specs) {
            if (spec.option == option)
                return spec.name;
        }
        return "?";
    }

    OptionSpec const* find_option(std::string_view name)
    {
        for (auto const& spec : option_specs) {
            if (spec.name == name)
                return &spec;
        }
        return nullptr;
    }

    SerialOutput parse_serial(std::string_view value)
    {
        if (value == "none")
            return { SerialOutput::Kind::None, {} };
        if (value == "stdout")
            return { SerialOutput::Kind::Stdout, {} };
        if (value == "stderr")
            return { SerialOutput::Kind::Stderr, {} };
        return { SerialOutput::Kind::File, std::string(value) };
    }

    Result<void> apply(VmmOptions& options, Option option, std::string_view name, std::string_view value)
    {
        auto with_name = [&](Error error) { return fail(std::string(name) + ": " + error.message); };
        switch (option) {
        case Option::Kernel:
        case Option::Initrd:
        case Option::Report:
        case Option::Vsock:
            if (value.empty())
                return fail(std::string(name) + ": empty path");
            if (option == Option::Kernel)
                options.kernel_path = value;
            else if (option == Option::Initrd)
                options.initrd_path = std::string(value);
            else if (option == Option::Vsock)
                options.vsock_path = std::string(value);
            else
                options.report_path = std::string(value);
            return {};
        case Option::Cmdline:
            options.extra_cmdline = value;
            return {};
        case Option::Memory: {
            auto bytes = parse_memory_size(value);
            if (!bytes)
                return with_name(bytes.error());
            options.memory_bytes = *bytes;
            return {};
        }
        case Option::Vcpus: {
            auto count = parse_bounded_integer(value, 1, max_vcpus);
            if (!count)
                return with_name(count.error());
            options.vcpus = static_cast<unsigned>(*count);
            return {};
        }
        case Option::Disk: {
            if (options.disks.size() == max_disks)
                return fail(std::string(name) + ": at most " + std::to_string(max_disks) + " disks");
            options.disks.push_back(TRY(parse_disk_option(value)));
            return {};
        }
        case Option::NetTap:
            options.net_tap = TRY(parse_net_tap_option(value));
            return {};
        case Option::NetStream:
            options.net_stream = TRY(parse_net_stream_option(value));
            return {};
        case Option::NetNamespace:
            if (value.empty() || value.front() != '/' || value.find('\0') != std::string_view::npos)
                return fail(std::string(name) + ": '" + std::string(value) + "' is not an absolute path");
            options.net_namespace = std::string(value);
            return {};
        case Option::Share: {
            if (options.shares.size() == max_shares)
                return fail(std::string(name) + ": at most " + std::to_string(max_shares) + " shares");
            auto share = TRY(parse_share_option(value));
            for (auto const& other : options.shares)
                if (other.tag == share.tag)
                    return fail(std::string(name) + ": tag '" + share.tag + "' is used twice");
            options.shares.push_back(std::move(share));
            return {};
        }
        case Option::VsockCid: {
            auto cid = parse_bounded_integer(value, vsock::first_guest_cid, vsock::last_guest_cid);
            if (!cid)
                return with_name(cid.error());
            options.vsock_cid = *cid;
            return {};
        }
        case Option::Serial:
            if (value.empty())
                return fail(std::string(name) + ": empty value (none, stdout, stderr or a file path)");
            options.serial = parse_serial(value);
            return {};
        case Option::Timeout: {
            auto duration = parse_duration(value);
            if (!duration)
                return with_name(duration.error());
            options.timeout = *duration;
            return {};
        }
        case Option::Debug:
            options.debug = true;
            return {};
        case Option::ExitAtBootMarker:
            options.exit_at_boot_marker = true;
            return {};
        case Option::VsockHoldUntilAgent:
            options.vsock_hold_until_agent = true;
            return {};
        case Option::ExitBeforeRun:
            options.exit_before_run = true;
            return {};
        case Option::ProfileSetup:
            options.profile_setup = true;
            return {};
        case Option::MemoryHugePages:
            if (value == "on")
                options.memory_huge_pages = HugePages::On;
            else if (value == "off")
                options.memory_huge_pages = HugePages::Off;
            else
                return fail(std::string(name) + ": '" + std::string(value) + "' is neither on nor off");
            return {};
        case Option::NoSeccomp:
            options.no_seccomp = true;
            return {};
        case Option::Jail:
            if (value.empty() || value.front() != '/')
                return fail(std::string(name) + ": needs an absolute directory");
            options.jail_directory = std::string(value);
            return {};
        case Option::JailId:
            if (auto valid = validate_vm_id(value); !valid)
                return with_name(valid.error());
            options.jail_id = std::string(value);
            return {};
        case Option::JailMemoryLimit: {
            auto bytes = parse_size(value);
            if (!bytes)
                return with_name(bytes.error());
            options.jail_memory_limit = *bytes;
            return {};
        }
        case Option::JailUid:
        case Option::JailGid: {
            // Never 0: the point is to leave root.
            auto id = parse_bounded_integer(value, 1, 0xffff'fffe);
            if (!id)
                return with_name(id.error());
            (option == Option::JailUid ? options.jail_uid : options.jail_gid) = static_cast<uint32_t>(*id);
            return {};
        }
        case Option::Net:
            options.network = TRY(parse_network_policy(value));
            return {};
        case Option::Publish:
            options.published.push_back(TRY(parse_published_port(value)));
            return check_published_ports(options.published);
        case Option::NetDns: {
            auto address = parse_ipv4_address(value);
            if (!address)
                return with_name(address.error());
            options.net_dns.push_back(*address);
            return {};
        }
        case Option::ReapNetworks:
            options.reap_networks = true;
            return {};
        case Option::NetGuestFile:
            if (value.empty() || value.front() != '/')
                return fail(std::string(name) + ": an absolute path is needed");
            options.net_guest_file = std::string(value);
            return {};
        case Option::Help:
            options.help = true;
            return {};
        case Option::Control:
        case Option::Restore:
            if (value.empty())
                return fail(std::string(name) + ": empty path");
            (option == Option::Control ? options.control_path : options.restore_directory) = std::string(value);
            return {};
        case Option::Rootfs:
            options.rootfs = TRY(parse_rootfs_option(value));
            return {};
        case Option::Count:
            break;
        }
        return {};
    }

    // --rootfs is served like one more --share, under a tag no --share may take.
    Result<void> add_rootfs_share(VmmOptions& options)
    {
        for (auto const& share : options.shares) {
            if (share.tag == rootfs_share_tag)
                return fail("--share: tag '" + share.tag + "' is --rootfs's; choose another");
        }
        if (options.shares.size() == max_shares)
            return fail("--rootfs: at most " + std::to_string(max_shares) + " shares, --rootfs counted");
        // Two roots named is a mistake (husk-init would take the last one): refuse, not pick.
        std::string_view words = options.extra_cmdline;
        for (size_t at = 0; at < words.size();) {
            auto end = words.find(' ', at);
            auto word = words.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
            if (word.starts_with("husk.root=") || word.starts_with("husk.rootfstype="))
                return fail("--rootfs names the root: --cmdline cannot set husk.root= or husk.rootfstype= too");
            if (end == std::string_view::npos)
                break;
            at = end + 1;
        }
        options.shares.push_back(options.rootfs->share());
        return {};
    }
} // namespace

Result<VmmOptions> parse_vmm_options(std::span<char const* const> argv)
{
    VmmOptions options;
    bool seen[static_cast<size_t>(Option::Count)] = {};
    for (size_t i = 1; i < argv.size(); ++i) {
        if (argv[i] == nullptr)
            break; // a conventional argv ends in a null pointer
        std::string_view argument(argv[i]);
        if (argument == "--") {
            for (size_t j = i + 1; j < argv.size() && argv[j] != nullptr; ++j)
                options.job_argv.emplace_back(argv[j]);
            break;
        }
        std::string_view name = argument;
        std::optional<std::string_view> inline_value;
        if (size_t equals = argument.find('='); argument.starts_with("--") && equals != std::string_view::npos) {
            name = argument.substr(0, equals);
            inline_value = argument.substr(equals + 1);
        }
        OptionSpec const* spec = find_option(name);
        if (spec == nullptr) {
            if (!argument.starts_with("-"))
                return fail("unexpected argument '" + std::string(argument) + "' (the job's command goes after --)");
            return fail("unknown option '" + std::string(name) + "' (see --help)");
        }
        // -h and --help share a slot, so "-h --help" counts as a duplicate like any other.
        size_t slot = static_cast<size_t>(spec->option);
        bool repeatable = spec->option == Option::Disk || spec->option == Option::Share
            || spec->option == Option::Publish || spec->option == Option::NetDns;
        if (seen[slot] && !repeatable)
            return fail("option " + std::string(spec->name) + " given more than once");
        seen[slot] = true;

        std::string_view value;
        if (spec->takes_value == TakesValue::Yes) {
            if (inline_value) {
                value = *inline_value;
            } else {
                if (i + 1 >= argv.size() || argv[i + 1] == nullptr)
                    return fail("option " + std::string(spec->name) + " needs a value");
                value = argv[++i];
            }
        } else if (inline_value) {
            return fail("option " + std::string(spec->name) + " takes no value");
        }
        TRY(apply(options, spec->option, spec->name, value));
        if (options.help)
            return options;
    }
    if (options.reap_networks) {
        for (size_t slot = 0; slot < static_cast<size_t>(Option::Count); ++slot) {
            auto option = static_cast<Option>(slot);
            if (seen[slot] && option != Option::ReapNetworks && option != Option::Report && option != Option::Debug)
                return fail("--reap-networks takes no other option (but --report and --debug)");
        }
        if (!options.job_argv.empty())
            return fail("--reap-networks runs no job");
        return options;
    }
    if (options.restore_directory) {
        // The snapshot's guest already booted: what shaped its boot has no meaning now. --rootfs
        // DIR still names the directory its root is served from (the tag `rootfs`).
        // --memory-hugepages too: a snapshot's memory is mapped privately from its file, which
        // takes no huge pages. --vsock-hold-until-agent: the restored agent listens already (a
        // restore holds connects only until the guest has handled the transport reset).
        for (auto option : { Option::Kernel, Option::Initrd, Option::Cmdline, Option::ExitAtBootMarker,
                 Option::MemoryHugePages, Option::VsockHoldUntilAgent }) {
            if (seen[static_cast<size_t>(option)])
                return fail("--restore cannot be combined with " + std::string(option_name(option)));
        }
        if (!options.job_argv.empty())
            return fail("--restore takes no job after --: the snapshot's guest runs on where it was");
        options.memory_given = seen[static_cast<size_t>(Option::Memory)];
        options.vcpus_given = seen[static_cast<size_t>(Option::Vcpus)];
    } else if (options.kernel_path.empty()) {
        return fail("missing --kernel PATH (see --help)");
    }
    if (options.rootfs)
        TRY(add_rootfs_share(options));
    if (seen[static_cast<size_t>(Option::VsockCid)] && !options.vsock_path)
        return fail("--vsock-cid needs --vsock PATH");
    if (options.vsock_hold_until_agent && !options.vsock_path)
        return fail("--vsock-hold-until-agent needs --vsock PATH");
    bool jail_detail = options.jail_id || options.jail_uid || options.jail_gid || options.jail_memory_limit;
    if (!options.jail_directory && jail_detail)
        return fail("--jail-id, --jail-uid, --jail-gid and --jail-memory-limit only apply with --jail DIR");
    if (options.jail_directory && (!options.jail_uid || !options.jail_gid))
        return fail("--jail needs --jail-uid and --jail-gid (the ids the VMM drops to)");
    // Guest owners: the server acts with DAC override, which is only confined inside the jail.
    for (auto const& share : options.shares) {
        if (share.ownership == ShareOwnership::Guest && !options.jail_directory)
            return fail("guest-owners (share '" + share.tag + "') needs --jail: its privileges are confined by it");
    }
    if (!options.network.has_network() && (!options.published.empty() || !options.net_dns.empty()))
        return fail("--publish and --net-dns need a network: --net internet or --net allow=LIST");
    if (options.network.has_network() && options.net_tap)
        return fail("--net builds the sandbox's tap itself: --net-tap is for a tap of your own, without --net");
    if (options.net_stream && (options.net_tap || options.network.has_network()))
        return fail("--net-stream is the VM's one network device: not with --net-tap or --net");
    if (options.network.has_network() && !options.jail_directory)
        return fail("--net " + to_string(options.network)
            + " needs --jail (as root: the network namespace, tap and rules are set up around a jailed VMM); "
              "without root only --net none is possible");
    if (options.net_guest_file && !options.network.has_network())
        return fail("--net-guest-file writes the guest settings of --net: it needs --net internet or allow=LIST");
    if (options.net_namespace && (!options.jail_directory || !options.net_tap))
        return fail("--net-namespace is the namespace the jailed VMM joins to attach to its --net-tap: it needs "
                    "--jail and --net-tap");
    return options;
}

std::string vmm_usage()
{
    return "usage: husk-vmm --kernel PATH [options] [-- CMD ARGS...]\n"
           "       husk-vmm --restore DIR [options]\n"
           "Boots a Linux guest in a KVM micro-VM and runs CMD through the guest's init.\n"
           "\n"
           "  --kernel PATH      uncompressed vmlinux (ELF) or bzImage\n"
           "  --initrd PATH      initramfs image\n"
           "  --cmdline ARGS     extra kernel command line arguments\n"
           "  --memory SIZE      guest RAM, 32M..64G, multiple of 4K (default 128M)\n"
           "  --memory-hugepages on|off  back guest RAM with transparent huge pages where the host\n"
           "                     has them (default on): faster boots, but an idle guest keeps\n"
           "                     more host memory resident; off: 4 KiB pages only\n"
           "  --vcpus N          1..32 (default 1)\n"
           "  --serial WHERE     guest console: none (default), stdout, stderr or a file path\n"
           "  --timeout TIME     stop the VM after TIME: 500ms, 30s, 2m, 1h (bare number: seconds)\n"
           "  --report FILE      write the JSON stop report to FILE (default: log it on stderr)\n"
           "  --vsock PATH       virtio-vsock device; host side at the unix socket PATH: connect and\n"
           "                     send `CONNECT <port>\\n` to reach a guest port; guest connections\n"
           "                     to host port P reach PATH_P. Without a job, husk-init serves its\n"
           "                     agent on vsock port 1024\n"
           "  --vsock-cid N      the guest's vsock CID, 3..4294967294 (default 3)\n"
           "  --vsock-hold-until-agent  hold host connects until husk-init reports its agent\n"
           "                     listening (at most 2 s after its boot marker, 10 s without any\n"
           "                     marker), then pass them on: no refused connects while the guest\n"
           "                     boots. Without it a connect before a guest listener is refused\n"
           "                     (Firecracker's behaviour). libhusk passes it\n"
           "  --disk PATH[,ro]   a virtio-blk disk on the raw image PATH (repeatable, at most 8:\n"
           "                     /dev/vda, /dev/vdb, ...); ,ro opens it read-only. With\n"
           "                     --cmdline husk.root=/dev/vda husk-init runs the job on that disk\n"
           "                     (read-only, with a RAM overlay for writes)\n"
           "  --net-tap NAME[,mac=MAC][,rx-bytes=RATE][,tx-bytes=RATE][,rx-pps=N][,tx-pps=N]\n"
           "                     a virtio-net device (the guest's eth0) on the tap NAME, created or\n"
           "                     attached to in husk-vmm's network namespace; MAC default: random,\n"
           "                     locally administered. RATE: bytes/s (K, M, G suffixes), N: frames/s;\n"
           "                     rx is host to guest. Guest addressing: --cmdline \"husk.ip=ADDR/PREFIX\n"
           "                     husk.gw=ADDR husk.dns=ADDR[,ADDR]\"\n"
           "  --net-stream fd=N|PATH[,mac=MAC][,rx-bytes=RATE]...\n"
           "                     a virtio-net device on a unix stream of length-prefixed frames\n"
           "                     (passt: `passt --fd N` or `--socket PATH`): the inherited connected\n"
           "                     socket N or the socket PATH; no checksum/TSO offloads. Settings\n"
           "                     and guest addressing as --net-tap\n"
           "  --net-namespace PATH  with --jail and --net-tap: the jailed VMM joins this existing\n"
           "                     network namespace (/run/netns/NAME, /proc/PID/ns/net) instead of a\n"
           "                     new, empty one, and attaches to the tap there (husk-oci: the\n"
           "                     container engine's namespace)\n"
           "  --share HOSTDIR:TAG[,ro][,guest-owners]  serve the host directory HOSTDIR to the guest\n"
           "                     over virtio-9p (repeatable, at most 8); the guest mounts it by TAG\n"
           "                     (husk-init: --cmdline husk.mount=TAG:/guest/path[:ro]). Files the\n"
           "                     guest creates belong to the user husk-vmm runs as (the jail uid);\n"
           "                     ,guest-owners (with --jail): to the guest's uids and gids, and guest\n"
           "                     root may change any file in it (runc's semantics, docs/sharing.md)\n"
           "  --rootfs DIR[,rw][,guest-owners]  boot on the host directory DIR as the guest's root\n"
           "                     (virtio-9p, like a --share; counts towards its 8): read-only, the\n"
           "                     guest's writes go to a private overlay in its RAM; ,rw: written in\n"
           "                     place, as the user husk-vmm serves shares as (or the guest's)\n"
           "  --debug            debug logging, kernel messages on the console, register dumps\n"
           "  --exit-at-boot-marker  stop cleanly as soon as husk-init has started (benchmarks)\n"
           "  --exit-before-run  build the VM, then exit before it runs (benchmarks)\n"
           "  --profile-setup    log where host-side setup (and teardown) spent its time, per\n"
           "                     phase, when the VM is gone (one JSON line; bench/setup reads it)\n"
           "  --no-seccomp       DEBUGGING ONLY: run without the per-thread seccomp filters\n"
           "  --jail DIR         run jailed (needs root): namespaces, cgroup, root DIR/ID, uid drop\n"
           "  --jail-id ID       the jail's name: letters, digits, _ and - (default vmm-PID)\n"
           "  --jail-uid N, --jail-gid N  the ids the jailed VMM runs as (required with --jail)\n"
           "  --jail-memory-limit SIZE  the VM cgroup's memory limit (default guest RAM + 256M);\n"
           "                     the VMM is killed when it needs more\n"
           "  --net MODE         the guest's network: none (default: no network device), internet\n"
           "                     (public addresses only) or allow=LIST of CIDR[:PORT] and\n"
           "                     NAME[:PORT] (a name allows what the sandbox's DNS forwarder\n"
           "                     resolves for it); private, loopback, link-local, CGNAT,\n"
           "                     multicast, host and other sandboxes' addresses are always\n"
           "                     denied. Needs --jail (root)\n"
           "  --publish H:G      host TCP port H reaches guest port G (repeatable)\n"
           "  --net-dns ADDRESS  upstream DNS server of the forwarder (repeatable; default:\n"
           "                     the non-loopback nameservers of /etc/resolv.conf)\n"
           "  --net-guest-file PATH  with --net: write the guest's network settings (husk-init's\n"
           "                     husk.ip=... husk.gw=... [husk.dns=...] words) to the new file PATH\n"
           "                     once they are chosen; a restored guest gets them from the SDK\n"
           "  --reap-networks    remove the networks of sandboxes whose launcher died, then exit\n"
           "                     (root; every --net start does this first anyway)\n"
           "  --control PATH     control socket at the unix socket PATH: PAUSE, RESUME, SNAPSHOT\n"
           "                     (with the state and memory files passed as descriptors); see\n"
           "                     docs/snapshots.md\n"
           "  --restore DIR      resume the snapshot in DIR (files `state` and `memory`) instead of\n"
           "                     booting; pass the snapshot's --vsock, --disk, --net, --share and\n"
           "                     --rootfs DIR devices (socket paths, CID, image paths, shared\n"
           "                     directories and the network policy may differ; tags and modes\n"
           "                     may not); --memory and --vcpus, if given, must match the snapshot\n"
           "  --help             this text\n"
           "\n"
           "Exit status: 0 guest shut down cleanly, 1 VMM/KVM error, 2 usage error,\n"
           "3 guest crashed or halted, 4 timeout, 5 stopped by a host signal.\n"
           "The job's own exit status is in the report, never in husk-vmm's exit status.\n";
}

} // namespace husk
