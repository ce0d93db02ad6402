// husk-vmm: boots one micro-VM from the command line, runs it to a stop and reports how it
// ended as one JSON line. Its exit status describes the VM (see exit_status.hpp), never the job.
#include "runtime/base/fd.hpp"
#include "runtime/base/log.hpp"
#include "runtime/base/setup_profile.hpp"
#include "runtime/jail/seccomp.hpp"
#include "runtime/main/exit_status.hpp"
#include "runtime/main/jailed_launch.hpp"
#include "runtime/main/vmm_options.hpp"
#include "runtime/net/network_reaper.hpp"
#include "runtime/net/sandbox_network.hpp"
#include "runtime/vmm/machine.hpp"
#include "runtime/vmm/snapshot_files.hpp"

#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdlib.h>
#include <unistd.h>

using namespace husk;

namespace {
int exit_with(VmmExitStatus status) { return static_cast<int>(status); }

// SIGINT/SIGTERM must end the VM with a report, not kill the process: block them from the first
// instruction on so one arriving during setup is still pending for Machine::run's signalfd.
// A console reader that went away must not kill us either (SIGPIPE): the serial device sees
// EPIPE and stops its output instead.
void prepare_signals()
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
}

// The report file is opened (and truncated) before the VM runs: once the main thread's seccomp
// filter is on it may write but not open files.
std::optional<Fd> open_report(std::optional<std::string> const& report_path)
{
    if (!report_path)
        return std::nullopt;
    constexpr mode_t report_mode = 0644;
    int fd = ::open(report_path->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, report_mode);
    if (fd < 0) {
        log_error(Error::from_errno("cannot write the report to " + *report_path).message);
        return std::nullopt;
    }
    return Fd(fd);
}

void emit_report(StopReport const& report, std::optional<Fd> const& report_file)
{
    std::string json = to_json(report);
    if (!report_file) {
        log_info("report " + json);
        return;
    }
    json.push_back('\n');
    if (auto written = write_all(report_file->get(), json.data(), json.size()); !written) {
        log_error("cannot write the report: " + written.error().message);
        log_info("report " + to_json(report));
    }
}

// Builds the machine, enters the jail when there is one (after setup: the machine's host files
// are descriptors by then), runs the VM and reports how it ended.
int run_vm(VmmOptions const& options, MachineConfig config, std::optional<LoadedSnapshot> snapshot,
    std::optional<Fd> const& report_file, std::function<Result<void>()> const& enter_jail)
{
    auto process_start = config.process_start;
    StopReport report;
    // Both before the jail: the memory file is mapped and the disks opened by path.
    auto machine = snapshot ? Machine::restore(std::move(config), snapshot->state, std::move(snapshot->memory_file))
                            : Machine::create(std::move(config));
    if (machine && enter_jail) {
        SetupPhase phase("jail");
        if (auto jailed = enter_jail(); !jailed)
            machine = unexpected(Error { "jail: " + jailed.error().message, 0 });
    }
    if (!machine) {
        log_error(machine.error().message);
        report.reason = StopReason::VmmError;
        report.detail = machine.error().message;
        report.timings.total
            = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - process_start);
    } else if (options.exit_before_run) {
        auto setup
            = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - process_start);
        log_info("VM built in " + std::to_string(setup.count()) + " us; exiting before it runs (--exit-before-run)");
        return exit_with(VmmExitStatus::CleanShutdown);
    } else {
        report = (*machine)->run();
    }
    emit_report(report, report_file);
    if (machine) {
        // KVM destroys the VM here, when its last descriptor closes.
        SetupPhase phase("teardown: machine");
        machine->reset();
    }
    if (options.profile_setup) {
        std::optional<SetupProfile::Clock::time_point> first_run;
        if (report.timings.setup)
            first_run = process_start + *report.timings.setup;
        log_info("setup profile: " + SetupProfile::process().to_json(first_run));
    }
    return exit_with(vmm_exit_status(report.reason));
}

JailSettings jail_settings_from(VmmOptions const& options, std::optional<Fd> const& report_file)
{
    constexpr uint64_t vmm_memory_overhead = 256ull << 20; // page tables, heap, rings, stacks
    constexpr uint64_t vmm_tasks = 32; // main, event and io_uring worker threads, with margin
    JailSettings settings;
    settings.directory = *options.jail_directory;
    settings.id = options.jail_id.value_or("vmm-" + std::to_string(::getpid()));
    settings.identity = { *options.jail_uid, *options.jail_gid };
    settings.cgroup_limits.memory_bytes
        = options.jail_memory_limit.value_or(options.memory_bytes + vmm_memory_overhead);
    settings.cgroup_limits.max_tasks = options.vcpus + vmm_tasks;
    settings.cgroup_limits.cpu_millis = (options.vcpus + 1) * 1000ull;
    settings.resource_limits.processes = options.vcpus + vmm_tasks;
    if (report_file)
        settings.keep_fds.push_back(report_file->get());
    if (options.net_stream && options.net_stream->stream_fd)
        settings.keep_fds.push_back(*options.net_stream->stream_fd); // the VMM adopts it
    return settings;
}

// After pivot_root the VMM sees only the jail root: a socket inside it keeps working for guest
// connections under its path from there; one outside cannot be reached (nor would its
// `_<port>` peers be), so guest connections are refused and the user is told why.
std::string vsock_base_in_jail(std::string const& uds_path, JailSettings const& settings)
{
    auto root = settings.directory + "/" + settings.id + "/";
    if (uds_path.starts_with(root) && uds_path.find("/../") == std::string::npos)
        return uds_path.substr(root.size() - 1);
    log_warn("--vsock " + uds_path + " is outside the jail root " + root
        + ": guest-initiated vsock connections will be refused (put the socket inside the root to allow them)");
    return {};
}

// Every share is bind-mounted into the jail root and served from there once the VMM has pivoted
// (ShareRoot::reopen_in_jail); guest-owned ones also keep the share capabilities.
Result<void> put_shares_in_jail(MachineConfig& config, JailSettings& settings)
{
    for (auto& share : config.shares) {
        // The jail mounts only what a path names itself; the share's own path may pass through
        // symlinks (the host user's choice), so it is resolved first.
        char resolved[PATH_MAX];
        if (!::realpath(share.host_path.c_str(), resolved))
            return fail_errno("the shared directory " + share.host_path);
        auto access = share.read_only ? JailMount::Access::ReadOnly : JailMount::Access::ReadWrite;
        settings.share_mounts.push_back({ resolved, jail_share_path(share.tag), access });
        share.in_jail
            = ShareConfig::InJail { "/" + jail_share_path(share.tag), "/" + std::string(jail_proc_path) + "/self/fd" };
        if (share.ownership == ShareOwnership::Guest)
            settings.capabilities = JailSettings::Capabilities::GuestOwnedShares;
    }
    return {};
}

// --net-guest-file: a new file (never one in place, nor through a symlink) with one line.
Result<void> write_net_guest_file(std::string const& path, std::string const& words)
{
    constexpr mode_t file_mode = 0644;
    auto file = TRY(Fd::open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, file_mode));
    auto line = words + "\n";
    return write_all(file.get(), line.data(), line.size());
}

SandboxNetworkRequest network_request_from(VmmOptions const& options, JailSettings const& settings)
{
    SandboxNetworkRequest request;
    request.policy = options.network;
    request.published = options.published;
    request.tap_uid = settings.identity.uid;
    request.tap_gid = settings.identity.gid;
    request.owner = settings.id;
    request.dns_upstreams = options.net_dns;
    return request;
}
} // namespace

int main(int argc, char** argv)
{
    auto process_start = std::chrono::steady_clock::now();
    SetupProfile::process().set_origin(process_start);
    std::optional<SetupPhase> options_phase;
    options_phase.emplace("options");
    prepare_allocator_for_seccomp();
    prepare_signals();
    capture_test_hooks();
    set_log_vm_id("vmm-" + std::to_string(::getpid()));
    set_log_thread_name("main");

    auto options = parse_vmm_options(std::span<char const* const>(argv, static_cast<size_t>(argc)));
    if (!options) {
        std::fprintf(stderr, "husk-vmm: %s\n", options.error().message.c_str());
        return exit_with(VmmExitStatus::Usage);
    }
    if (options->help) {
        std::fputs(vmm_usage().c_str(), stdout);
        return exit_with(VmmExitStatus::CleanShutdown);
    }
    if (options->reap_networks) {
        if (::geteuid() != 0) {
            std::fprintf(stderr, "husk-vmm: --reap-networks needs root\n");
            return exit_with(VmmExitStatus::Usage);
        }
        auto reaped = reap_abandoned_networks(default_network_state_directory);
        if (!reaped) {
            log_error("network reaper: " + reaped.error().message);
            return exit_with(VmmExitStatus::VmmError);
        }
        log_info("network reaper: " + std::to_string(*reaped) + " abandoned sandbox network(s) removed");
        return exit_with(VmmExitStatus::CleanShutdown);
    }
    std::optional<LoadedSnapshot> snapshot;
    if (options->restore_directory) {
        options_phase.emplace("snapshot load");
        SnapshotExpectations expected;
        if (options->memory_given)
            expected.memory_bytes = options->memory_bytes;
        if (options->vcpus_given)
            expected.vcpus = options->vcpus;
        auto loaded = load_snapshot(*options->restore_directory, expected);
        if (!loaded) {
            std::fprintf(stderr, "husk-vmm: cannot restore: %s\n", loaded.error().message.c_str());
            return exit_with(VmmExitStatus::VmmError);
        }
        // The jail's limits and the report follow the snapshot's machine.
        options->memory_bytes = loaded->state.memory_bytes;
        options->vcpus = static_cast<unsigned>(loaded->state.vcpus.size());
        snapshot = std::move(loaded).value();
        options_phase.emplace("config");
    }
    auto cmdline = build_kernel_cmdline(*options);
    if (!cmdline) {
        std::fprintf(stderr, "husk-vmm: %s\n", cmdline.error().message.c_str());
        return exit_with(VmmExitStatus::Usage);
    }
    if (options->debug)
        set_log_level(LogLevel::Debug);

    auto config = machine_config_from(*options, std::move(cmdline).value());
    config.process_start = process_start;
    log_debug("kernel command line: " + config.cmdline);
    if (config.seccomp == SeccompMode::Off)
        log_warn("--no-seccomp: the VMM threads run without seccomp filters (debugging only)");
    auto report_file = open_report(options->report_path);
    options_phase.reset();

    if (options->jail_directory) {
        auto settings = jail_settings_from(*options, report_file);
        if (snapshot)
            settings.keep_fds.push_back(snapshot->memory_file.get()); // mapped before the pivot
        if (config.vsock)
            config.vsock->guest_connect_base = vsock_base_in_jail(config.vsock->uds_path, settings);
        if (auto placed = put_shares_in_jail(config, settings); !placed) {
            log_error(placed.error().message);
            return exit_with(VmmExitStatus::VmmError);
        }
        // --net: the launcher (root, before it forks the VMM) builds the sandbox's network; the
        // VMM joins its namespace and attaches to its tap; the launcher removes it at the end.
        std::unique_ptr<SandboxNetwork> network;
        if (options->network.has_network()) {
            auto network_start = std::chrono::steady_clock::now();
            auto created = SandboxNetwork::create(network_request_from(*options, settings));
            if (!created) {
                log_error("network: " + created.error().message);
                return exit_with(VmmExitStatus::VmmError);
            }
            network = std::move(created).value();
            settings.network_namespace = network->namespace_path();
            settings.remove_network = [&network] { network->tear_down(); };
            auto with_network = build_kernel_cmdline(*options, network->guest_kernel_arguments());
            if (!with_network) {
                std::fprintf(stderr, "husk-vmm: %s\n", with_network.error().message.c_str());
                return exit_with(VmmExitStatus::Usage);
            }
            config.cmdline = std::move(with_network).value();
            if (options->net_guest_file) {
                if (auto written = write_net_guest_file(*options->net_guest_file, network->guest_kernel_arguments());
                    !written) {
                    log_error("network: " + written.error().message);
                    return exit_with(VmmExitStatus::VmmError);
                }
            }
            // The VMM attaches to the tap the launcher made in the sandbox's namespace.
            config.net = NetConfig {};
            config.net->tap_name = network->tap_name();
            auto network_setup = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - network_start);
            log_info("network: " + to_string(options->network) + " in " + network->namespace_path() + " ("
                + network->guest_kernel_arguments() + "), built in " + std::to_string(network_setup.count()) + " ms");
        }
        // --net-namespace: somebody else's namespace and tap (husk-oci's container engine); the VMM
        // joins it instead of an empty one and opens --net-tap there, before the pivot.
        if (options->net_namespace)
            settings.network_namespace = *options->net_namespace;
        return run_jailed(settings, [&](std::function<Result<void>()> const& enter_jail) {
            return run_vm(*options, std::move(config), std::move(snapshot), report_file, enter_jail);
        });
    }
    return run_vm(*options, std::move(config), std::move(snapshot), report_file, nullptr);
}
