// Sandbox lifecycle: option checks, starting husk-vmm, waiting for the agent, teardown.
#include "husk/sandbox.hpp"

#include "guest-init/protocol/agent_port.hpp"
#include "husk/units.hpp"
#include "runtime/base/fd.hpp"
#include "sdk/src/assets.hpp"
#include "sdk/src/directory_watch.hpp"
#include "sdk/src/hybrid_vsock.hpp"
#include "sdk/src/jail_decision.hpp"
#include "sdk/src/mounts.hpp"
#include "sdk/src/passt_network.hpp"
#include "sdk/src/sandbox_state.hpp"
#include "sdk/src/step_trace.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <ctime>
#include <thread>
#include <unistd.h>

namespace husk {

using namespace std::chrono_literals;
using detail::SandboxState;

namespace {

    constexpr unsigned max_vcpus = 32;
    constexpr uint64_t min_memory = 32ull << 20;
    constexpr uint64_t max_memory = 64ull << 30;
    constexpr uint64_t page_size = 4096;
    // husk-vmm holds a CONNECT that arrives before the guest's agent listens (on a cold boot until
    // husk-init reports it, after a restore until the guest handled the transport reset), so the
    // first connect once its socket exists is the one that works. A VMM without that hold (an
    // older one, or one whose hold ended at its bound) refuses it: then every refused CONNECT
    // costs the booting guest a vsock request and reset, which is not free under nested
    // emulation, so retry soon at first, then back off to a bounded pause.
    constexpr auto first_connect_pause = 2ms;
    constexpr auto max_connect_pause = 20ms;

    // tap_network's values become parts of husk-vmm arguments and kernel command line words:
    // husk-vmm and husk-init check their grammar, here only what would split or join them.
    Result<void> check_tap_network(SandboxOptions const& options)
    {
        if (!options.tap_network)
            return {};
        auto const& tap = *options.tap_network;
        if (detail::has_network(options))
            return fail(ErrorKind::BadConfig, "tap_network is the guest's network: network must be \"none\" with it");
        if (tap.netns.empty() || tap.netns.front() != '/')
            return fail(ErrorKind::BadConfig, "tap_network.netns must be an absolute path: '" + tap.netns + "'");
        auto plain = [](std::string const& value, char const* extra) {
            return value.find_first_of(std::string(" \t\n\"\0", 5) + extra) == std::string::npos;
        };
        if (tap.tap.empty() || !plain(tap.tap, ",/:") || !plain(tap.mac, ",") || tap.mac.empty()
            || !plain(tap.address, ",") || tap.address.find('/') == std::string::npos || !plain(tap.gateway, ",/")
            || !plain(tap.netns, ""))
            return fail(ErrorKind::BadConfig,
                "tap_network: tap, mac, address (ADDR/PREFIX) and gateway must be plain words without spaces or commas");
        return {};
    }

    // The network's own grammar is husk-vmm's to check (runtime/net/network_policy.hpp); here
    // only what would make it an argument of something else, and what the jail decides.
    Result<void> check_network_options(SandboxOptions const& options)
    {
        bool shaped = options.network.empty() || options.network == "none" || options.network == "internet"
            || options.network.starts_with("allow=");
        if (!shaped || options.network.find_first_of(std::string(" \t\n\0", 4)) != std::string::npos)
            return fail(ErrorKind::BadConfig,
                "network must be none, internet or allow=LIST (CIDR[:PORT] and NAME[:PORT], comma-separated)");
        if (!detail::has_network(options) && (!options.publish.empty() || !options.dns_servers.empty()))
            return fail(ErrorKind::BadConfig, "publish and dns_servers need a network (internet or allow=LIST)");
        for (size_t i = 0; i < options.publish.size(); ++i) {
            if (options.publish[i].host_port == 0 || options.publish[i].guest_port == 0)
                return fail(ErrorKind::BadConfig, "published ports must be 1..65535");
            for (size_t j = i + 1; j < options.publish.size(); ++j) {
                if (options.publish[i].host_port == options.publish[j].host_port)
                    return fail(ErrorKind::BadConfig,
                        "host port " + std::to_string(options.publish[i].host_port) + " is published twice");
            }
        }
        for (auto const& server : options.dns_servers) {
            in_addr address {};
            if (::inet_pton(AF_INET, server.c_str(), &address) != 1)
                return fail(ErrorKind::BadConfig, "dns_servers entries must be IPv4 addresses: '" + server + "'");
        }
        return check_tap_network(options);
    }

    // Where a network comes from: the jailed launcher's namespace, tap and policy (root), or
    // passt's socket (sdk/src/passt_network.hpp).
    enum class NetworkBackend { JailedPolicy, Passt };

    std::vector<std::string> vmm_argv(detail::Assets const& assets, SandboxOptions const& options,
        std::string const& socket_path, std::string const& report_path, NetworkBackend network,
        detail::MacBytes const& guest_mac)
    {
        std::vector<std::string> argv { assets.vmm, "--kernel", assets.kernel, "--initrd", assets.initrd, "--memory",
            std::to_string(options.memory_bytes), "--vcpus", std::to_string(options.vcpus), "--serial", "none",
            "--vsock", socket_path, "--vsock-hold-until-agent", "--report", report_path };
        std::vector<std::string> cmdline_words;
        if (assets.rootfs) {
            // Read-only: husk-init puts a tmpfs overlay over it (guest-init/root_switch.cpp), so the
            // image is shared safely. It is the VM's first disk, hence /dev/vda.
            argv.insert(argv.end(), { "--disk", *assets.rootfs + ",ro" });
            cmdline_words.push_back("husk.root=/dev/vda");
        }
        if (!options.rootfs_dir.empty()) {
            // husk-vmm shares it and names it on the kernel command line itself.
            argv.insert(argv.end(),
                { "--rootfs",
                    options.rootfs_dir + (options.rootfs_writes == RootfsWrites::InPlace ? ",rw" : "")
                        + (options.rootfs_owners == ShareOwners::Guest ? ",guest-owners" : "") });
        }
        detail::append_mount_arguments(options.mounts, argv, cmdline_words);
        if (detail::has_network(options) && network == NetworkBackend::Passt)
            cmdline_words.push_back(detail::passt_guest_kernel_arguments(options));
        if (options.tap_network) {
            cmdline_words.push_back("husk.ip=" + options.tap_network->address);
            if (!options.tap_network->gateway.empty())
                cmdline_words.push_back("husk.gw=" + options.tap_network->gateway);
            argv.insert(argv.end(),
                { "--net-namespace", options.tap_network->netns, "--net-tap",
                    options.tap_network->tap + ",mac=" + options.tap_network->mac });
        }
        if (!cmdline_words.empty()) {
            std::string cmdline;
            for (auto const& word : cmdline_words)
                cmdline += (cmdline.empty() ? "" : " ") + word;
            argv.insert(argv.end(), { "--cmdline", cmdline });
        }
        if (options.lifetime) {
            argv.push_back("--timeout");
            argv.push_back(std::to_string(options.lifetime->count()) + "ms");
        }
        if (detail::has_network(options) && network == NetworkBackend::Passt) {
            auto arguments = detail::passt_vmm_arguments(guest_mac);
            argv.insert(argv.end(), arguments.begin(), arguments.end());
        } else if (detail::has_network(options)) {
            detail::append_policy_network_arguments(options, argv);
        }
        return argv;
    }

    // The directory itself is checked by husk-vmm when it opens it (and by resolve_assets());
    // here the shape that makes it one --rootfs DIR[,rw] argument.
    Result<void> check_rootfs_dir(SandboxOptions const& options)
    {
        if (options.rootfs_dir.empty()) {
            if (options.rootfs_writes != RootfsWrites::Private)
                return fail(ErrorKind::BadConfig, "rootfs_writes applies to rootfs_dir, which is not set");
            if (options.rootfs_owners != ShareOwners::Vmm)
                return fail(ErrorKind::BadConfig, "rootfs_owners applies to rootfs_dir, which is not set");
            return {};
        }
        if (!options.rootfs_path.empty())
            return fail(ErrorKind::BadConfig, "give rootfs_path (an image) or rootfs_dir (a directory), not both");
        if (options.rootfs_dir.front() != '/')
            return fail(ErrorKind::BadConfig, "rootfs_dir must be absolute: " + options.rootfs_dir);
        if (options.rootfs_dir.find_first_of(std::string(",\0", 2)) != std::string::npos)
            return fail(ErrorKind::BadConfig, "rootfs_dir cannot contain a comma or NUL: " + options.rootfs_dir);
        // It is served as one more share, and a VM has at most max_mounts of them.
        if (options.mounts.size() >= detail::max_mounts)
            return fail(ErrorKind::BadConfig,
                "with rootfs_dir at most " + std::to_string(detail::max_mounts - 1) + " mounts, not "
                    + std::to_string(options.mounts.size()));
        return {};
    }

    // A jail that cannot be set up is a host problem retrying will not fix, unless ids ran out.
    Error jail_error(Error error)
    {
        if (error.kind == ErrorKind::Other)
            error.kind = ErrorKind::BadConfig;
        error.message = "cannot jail the VM: " + error.message;
        return error;
    }

} // namespace

void detail::append_policy_network_arguments(SandboxOptions const& options, std::vector<std::string>& argv)
{
    argv.insert(argv.end(), { "--net", options.network });
    for (auto const& port : options.publish)
        argv.insert(
            argv.end(), { "--publish", std::to_string(port.host_port) + ":" + std::to_string(port.guest_port) });
    for (auto const& server : options.dns_servers)
        argv.insert(argv.end(), { "--net-dns", server });
}

bool detail::may_end_without_guest(SandboxOptions const& options)
{
    bool root_written_in_place = !options.rootfs_dir.empty() && options.rootfs_writes == RootfsWrites::InPlace;
    bool writable_share = std::any_of(
        options.mounts.begin(), options.mounts.end(), [](Mount const& mount) { return !mount.read_only; });
    return !root_written_in_place && !writable_share;
}

bool detail::has_network(SandboxOptions const& options)
{
    return !options.network.empty() && options.network != "none";
}

Result<void> detail::check_options(SandboxOptions const& options)
{
    if (options.vcpus < 1 || options.vcpus > max_vcpus)
        return fail(ErrorKind::BadConfig,
            "vcpus must be 1.." + std::to_string(max_vcpus) + ", not " + std::to_string(options.vcpus));
    if (options.memory_bytes < min_memory || options.memory_bytes > max_memory)
        return fail(
            ErrorKind::BadConfig, "memory must be 32 MiB..64 GiB, not " + units::format_size(options.memory_bytes));
    if (options.memory_bytes % page_size != 0)
        return fail(ErrorKind::BadConfig, "memory must be a multiple of 4 KiB");
    if (options.boot_timeout <= 0ms)
        return fail(ErrorKind::BadConfig, "boot_timeout must be positive");
    if (options.lifetime && *options.lifetime <= 0ms)
        return fail(ErrorKind::BadConfig, "lifetime must be positive");
    if (!options.workdir.empty() && options.workdir[0] != '/')
        return fail(ErrorKind::BadConfig, "workdir must be absolute: " + options.workdir);
    for (auto const& entry : options.env) {
        if (entry.find('=') == std::string::npos || entry[0] == '=')
            return fail(ErrorKind::BadConfig, "env entries must be NAME=value: '" + entry + "'");
    }
    TRY(detail::check_mounts(options.mounts));
    // The path becomes part of husk-vmm's `--disk PATH,ro` value.
    if (options.rootfs_path.find(',') != std::string::npos)
        return fail(ErrorKind::BadConfig, "rootfs paths cannot contain a comma: " + options.rootfs_path);
    TRY(check_rootfs_dir(options));
    return check_network_options(options);
}

Result<Fd> detail::wait_for_agent(
    SandboxState const& state, std::string const& socket_path, std::chrono::steady_clock::time_point deadline)
{
    Error last { "nothing tried", 0, ErrorKind::GuestNotReady };
    std::chrono::milliseconds pause = first_connect_pause;
    // Until husk-vmm binds its socket, its creation ends the pause (the pause stays the bound,
    // should the watch be unavailable): with the VMM's hold, the first connect after that is the
    // one that works, on a cold boot as after a restore.
    auto socket_created = detail::DirectoryWatch::create(socket_path.substr(0, socket_path.rfind('/')));
    while (std::chrono::steady_clock::now() < deadline) {
        if (auto exit = state.vmm->peek_exit())
            return unexpected(state.vm_died_error(*exit, "during boot"));
        detail::ConnectStage stage;
        auto stream = detail::connect_hybrid_vsock(socket_path, protocol::agent_port, deadline, stage);
        if (stream) {
            detail::trace_step("connected");
            return stream;
        }
        detail::trace_step(stage == detail::ConnectStage::NoSocket ? "connect: no socket yet" : "connect: refused");
        last = std::move(stream).error();
        if (stage == detail::ConnectStage::Failed && last.kind != ErrorKind::GuestNotReady)
            return unexpected(std::move(last));
        if (stage == detail::ConnectStage::NoSocket && socket_created)
            socket_created->wait(pause);
        else
            std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(max_connect_pause));
    }
    auto error = state.explain(Error { "the guest agent did not answer within "
            + std::to_string(state.options.boot_timeout.count()) + " ms (last: " + last.message + ")",
        0, ErrorKind::GuestNotReady });
    return unexpected(std::move(error));
}

Result<void> detail::greet(detail::AgentClient& client, std::chrono::steady_clock::time_point deadline,
    protocol::Refresh const* refresh)
{
    // The HelloReply is the agent answering in our protocol: a Ping after it would only cost
    // every sandbox's start one more round trip.
    if (refresh) {
        // The guest sets its clock to this reading when the Refresh arrives: taken now, not when
        // the Refresh was made, before the VMM was even started.
        auto stamped = *refresh;
        if (stamped.realtime_ns != 0) {
            timespec now {};
            ::clock_gettime(CLOCK_REALTIME, &now);
            stamped.realtime_ns
                = static_cast<uint64_t>(now.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(now.tv_nsec);
        }
        TRY(client.hello_and_refresh(stamped, deadline));
    } else
        TRY(client.hello(deadline));
    return {};
}

Result<void> detail::open_agent(SandboxState& state, Fd stream, std::chrono::steady_clock::time_point deadline,
    protocol::Refresh const* refresh)
{
    auto* raw_state = &state;
    state.client = TRY(detail::AgentClient::create(
        std::move(stream), state.vmm->pidfd(), [raw_state](Error reason) { return raw_state->explain(reason); }));
    auto greeted = detail::greet(*state.client, deadline, refresh);
    detail::trace_step(refresh ? "hello and refresh answered" : "hello answered");
    if (!greeted) {
        auto error = std::move(greeted).error();
        if (error.kind == ErrorKind::Timeout)
            error.kind = ErrorKind::GuestNotReady;
        return unexpected(std::move(error));
    }
    return {};
}

Sandbox::Sandbox(std::unique_ptr<SandboxState> state)
    : m_state(std::move(state))
{
}
Sandbox::Sandbox(Sandbox&&) noexcept = default;
Sandbox& Sandbox::operator=(Sandbox&&) noexcept = default;
Sandbox::~Sandbox() = default;

Result<std::unique_ptr<SandboxState>> detail::start_sandbox(SandboxOptions options, bool jailed,
    VmmArguments const& vmm_arguments, std::chrono::steady_clock::time_point deadline, protocol::Refresh const* refresh)
{
    detail::trace_step("start");
    auto state = std::make_unique<SandboxState>();
    state->options = std::move(options);
    state->temp_dir.emplace(TRY_CONTEXT(detail::TempDir::create(), "sandbox directory"));
    auto socket_path = *state->temp_dir / detail::socket_file;
    state->log_path = *state->temp_dir / detail::log_file;
    state->report_path = *state->temp_dir / detail::report_file;
    auto argv = TRY(vmm_arguments(*state, socket_path));
    argv.insert(argv.end(), { "--control", *state->temp_dir / detail::control_file });
    if (jailed) {
        auto prepared = detail::SandboxJail::create();
        if (!prepared)
            return unexpected(jail_error(std::move(prepared).error()));
        state->jail.emplace(std::move(*prepared));
        state->jail_uid = state->jail->uid();
        auto arguments = state->jail->vmm_arguments();
        argv.insert(argv.end(), arguments.begin(), arguments.end());
        detail::trace_step("jail id and directories ready");
    }
    state->vmm_path = argv.front();
    state->may_end_without_guest = detail::may_end_without_guest(state->options);
    // Only a jailed network leaves anything for husk-vmm's reaper.
    state->networked = detail::has_network(state->options) && !state->passt;
    if (state->passt) {
        state->vmm.emplace(TRY(detail::VmmChild::spawn(argv, state->log_path, state->passt->vmm_socket())));
        state->passt->close_vmm_socket(); // husk-vmm's now: passt sees the end when husk-vmm exits
    } else {
        state->vmm.emplace(TRY(detail::VmmChild::spawn(argv, state->log_path)));
    }
    detail::trace_step("husk-vmm spawned");

    auto stream = TRY(detail::wait_for_agent(*state, socket_path, deadline));
    TRY(detail::open_agent(*state, std::move(stream), deadline, refresh));
    return state;
}

Result<Sandbox> Sandbox::create(SandboxOptions options)
{
    TRY(detail::check_options(options));
    auto jail = TRY(detail::decide_jail(options.jail, ::geteuid()));
    // Unjailed (no root), a network comes from passt, which enforces no policy.
    auto network = jail.jailed ? NetworkBackend::JailedPolicy : NetworkBackend::Passt;
    if (detail::has_network(options) && network == NetworkBackend::Passt)
        TRY(detail::check_passt_network(options));
    bool guest_owners = options.rootfs_owners == ShareOwners::Guest
        || std::any_of(options.mounts.begin(), options.mounts.end(),
            [](Mount const& mount) { return mount.owners == ShareOwners::Guest; });
    if (options.tap_network && !jail.jailed)
        return fail(ErrorKind::BadConfig,
            "tap_network needs the jail, which needs root (" + jail.reason + "): the VMM joins the namespace");
    if (guest_owners && !jail.jailed)
        return fail(ErrorKind::BadConfig,
            "ShareOwners::Guest needs the jail, which needs root (" + jail.reason + "): it confines the privileges");
    auto assets = TRY(detail::resolve_assets(options));
    auto deadline = std::chrono::steady_clock::now() + options.boot_timeout;
    auto state = TRY(detail::start_sandbox(std::move(options), jail.jailed,
        [&](SandboxState& state, std::string const& socket_path) -> Result<std::vector<std::string>> {
            detail::MacBytes guest_mac {};
            if (detail::has_network(state.options) && network == NetworkBackend::Passt) {
                state.passt.emplace(TRY(detail::PasstNetwork::start(
                    state.options, state.temp_dir->path(), detail::random_guest_mac(), deadline)));
                guest_mac = state.passt->guest_mac();
            }
            return vmm_argv(assets, state.options, socket_path, state.report_path, network, guest_mac);
        },
        deadline));
    return Sandbox(std::move(state));
}

Result<Sandbox> detail::SandboxAccess::attach(Fd stream, SandboxOptions options)
{
    auto state = std::make_unique<SandboxState>();
    state->options = std::move(options);
    state->client = TRY(AgentClient::create(std::move(stream)));
    TRY(detail::greet(*state->client, std::chrono::steady_clock::now() + state->options.boot_timeout));
    return Sandbox(std::move(state));
}

Result<void> Sandbox::ping(std::chrono::milliseconds timeout)
{
    return m_state->client->ping(std::chrono::steady_clock::now() + timeout);
}

Result<void> Sandbox::shutdown() { return m_state->stop(); }

SandboxOptions const& Sandbox::options() const { return m_state->options; }

pid_t Sandbox::vmm_pid() const { return m_state->vmm ? m_state->vmm->pid() : 0; }

bool Sandbox::jailed() const { return m_state->jail_uid != 0; }

uint32_t Sandbox::jail_uid() const { return m_state->jail_uid; }

} // namespace husk
