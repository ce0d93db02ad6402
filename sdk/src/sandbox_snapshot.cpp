// Sandbox::snapshot and Sandbox::restore (docs/snapshots.md): the SDK end of husk-vmm's control
// socket and of `husk-vmm --restore`, and the Refresh that makes each restored copy a machine of
// its own.
#include "husk/sandbox.hpp"

#include "runtime/base/fd.hpp"
#include "runtime/snapshot/snapshot_format.hpp"
#include "sdk/src/assets.hpp"
#include "sdk/src/jail_decision.hpp"
#include "sdk/src/mounts.hpp"
#include "sdk/src/passt_network.hpp"
#include "sdk/src/sandbox_state.hpp"
#include "sdk/src/snapshot_network.hpp"
#include "sdk/src/vmm_control.hpp"

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace husk {

using detail::SandboxState;

namespace {
    // Writing guest memory is bounded by the disk; a 64 GiB guest on a slow one takes a while.
    constexpr auto snapshot_timeout = std::chrono::minutes(5);
    constexpr auto resume_timeout = std::chrono::seconds(10);
    constexpr size_t refresh_entropy_bytes = 64;

    Result<Fd> create_file(std::string const& path)
    {
        return Fd::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    }

    std::string absolute(std::string const& path)
    {
        if (!path.empty() && path[0] == '/')
            return path;
        char cwd[4096];
        if (::getcwd(cwd, sizeof cwd) == nullptr)
            return path;
        return std::string(cwd) + "/" + path;
    }

    // "husk-" and 12 hex digits: distinct per clone, valid as a hostname.
    std::string clone_hostname(std::span<uint8_t const> random)
    {
        char name[32];
        std::snprintf(name, sizeof name, "husk-%02x%02x%02x%02x%02x%02x", random[0], random[1], random[2], random[3],
            random[4], random[5]);
        return name;
    }

    Result<protocol::Refresh> make_refresh()
    {
        protocol::Refresh refresh;
        refresh.entropy.resize(refresh_entropy_bytes);
        if (::getrandom(refresh.entropy.data(), refresh.entropy.size(), 0)
            != static_cast<ssize_t>(refresh.entropy.size()))
            return fail_errno("getrandom");
        uint8_t name_bytes[6];
        if (::getrandom(name_bytes, sizeof name_bytes, 0) != static_cast<ssize_t>(sizeof name_bytes))
            return fail_errno("getrandom");
        refresh.hostname = clone_hostname(name_bytes);
        timespec now {};
        ::clock_gettime(CLOCK_REALTIME, &now);
        refresh.realtime_ns = static_cast<uint64_t>(now.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(now.tv_nsec);
        return refresh;
    }
    // The clone's addresses, which husk-vmm's launcher wrote before it started the VM (so before
    // the agent could answer): one line of husk.ip=... words, for the agent to check and apply.
    Result<std::string> read_guest_network(std::string const& path)
    {
        constexpr size_t max_size = protocol::max_refresh_network_size + 1;
        auto text = TRY_CONTEXT(read_file(path, max_size), "the restored sandbox's network settings");
        while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
            text.pop_back();
        if (text.empty())
            return fail("the restored sandbox's network settings are empty: " + path);
        return text;
    }
} // namespace

Result<void> Sandbox::snapshot(std::string const& directory)
{
    auto& state = *m_state;
    if (!state.vmm || !state.temp_dir)
        return fail(ErrorKind::BadConfig, "only a sandbox that started its own VM can be snapshotted");
    if (::mkdir(directory.c_str(), 0700) < 0 && errno != EEXIST)
        return fail_errno("snapshot directory " + directory);
    // The state file gets its name only once complete, so a failed snapshot is never restorable.
    auto partial_path = directory + "/state.partial";
    auto state_file = TRY(create_file(partial_path));
    auto memory_file = TRY(create_file(snapshot_memory_path(directory)));
    auto control = *state.temp_dir / detail::control_file;
    int fds[] = { state_file.get(), memory_file.get() };
    auto written
        = detail::send_vmm_command(control, "SNAPSHOT", fds, std::chrono::steady_clock::now() + snapshot_timeout);
    // Resumed whatever happened: a failed snapshot must not leave the sandbox frozen.
    auto resumed = detail::send_vmm_command(control, "RESUME", {}, std::chrono::steady_clock::now() + resume_timeout);
    if (!written) {
        ::unlink(partial_path.c_str());
        auto error = state.explain(std::move(written).error());
        error.message = "snapshot: " + error.message;
        return unexpected(std::move(error));
    }
    if (::rename(partial_path.c_str(), snapshot_state_path(directory).c_str()) < 0)
        return fail_errno("snapshot: naming the state file");
    if (!resumed)
        return unexpected(state.explain(std::move(resumed).error()));
    return {};
}

Result<Sandbox> Sandbox::restore(std::string const& directory, SandboxOptions options)
{
    TRY(detail::check_options(options));
    struct stat status { };
    if (::stat(snapshot_state_path(directory).c_str(), &status) < 0)
        return fail(ErrorKind::BadConfig, "not a snapshot directory (no state file): " + directory);
    auto jail = TRY(detail::decide_jail(options.jail, ::geteuid()));
    // A clone's network is a new one, whichever network the snapshotted sandbox had. Jailed
    // (root): built like a fresh sandbox's by the jailed launcher, with this restore's policy.
    // Unjailed: a passt of its own, probed from the MAC the restored guest keeps, so passt's
    // first frames reach it. Either way the guest is then moved to its addresses (a second
    // Refresh, below). A caller's own tap is not restored.
    if (options.tap_network)
        return fail(ErrorKind::BadConfig, "a restored sandbox cannot use tap_network: give it network instead");
    std::optional<detail::MacBytes> passt_guest_mac;
    if (detail::has_network(options) && !jail.jailed) {
        TRY(detail::check_passt_network(options));
        auto network = TRY(detail::read_snapshot_network(directory));
        if (!network)
            return fail(ErrorKind::BadConfig,
                "the snapshot in " + directory + " has no network device: restore it without a network");
        if (network->offloads)
            return fail(ErrorKind::BadConfig,
                "the snapshot in " + directory
                    + " was taken on a jailed network (root), whose offloads its guest uses; without root a "
                      "clone's network comes from passt, which has none: restore it as root");
        passt_guest_mac = network->mac;
    }
    auto assets = TRY(detail::resolve_assets(options));
    auto deadline = std::chrono::steady_clock::now() + options.boot_timeout;
    auto arguments = [&assets, &passt_guest_mac, &deadline, snapshot = absolute(directory)](
                         SandboxState& state, std::string const& socket_path) -> Result<std::vector<std::string>> {
        std::vector<std::string> argv { assets.vmm, "--restore", snapshot, "--serial", "none", "--vsock", socket_path,
            "--report", state.report_path };
        if (assets.rootfs)
            argv.insert(argv.end(), { "--disk", *assets.rootfs + ",ro" });
        // The snapshot's shares again, under the same tags (husk-vmm checks tag and mode); the
        // guest mounted them before the snapshot, so their command-line words are not needed.
        auto const& options = state.options;
        if (!options.rootfs_dir.empty())
            argv.insert(argv.end(),
                { "--rootfs",
                    options.rootfs_dir + (options.rootfs_writes == RootfsWrites::InPlace ? ",rw" : "")
                        + (options.rootfs_owners == ShareOwners::Guest ? ",guest-owners" : "") });
        std::vector<std::string> mounted_by_the_guest_already;
        detail::append_mount_arguments(options.mounts, argv, mounted_by_the_guest_already);
        if (state.options.lifetime) {
            argv.push_back("--timeout");
            argv.push_back(std::to_string(state.options.lifetime->count()) + "ms");
        }
        if (passt_guest_mac) {
            state.passt.emplace(
                TRY(detail::PasstNetwork::start(options, state.temp_dir->path(), *passt_guest_mac, deadline)));
            auto stream = detail::passt_vmm_arguments(*passt_guest_mac);
            argv.insert(argv.end(), stream.begin(), stream.end());
        } else if (detail::has_network(options)) {
            detail::append_policy_network_arguments(options, argv);
            argv.insert(argv.end(), { "--net-guest-file", *state.temp_dir / detail::net_guest_file });
        }
        return argv;
    };
    // The Refresh travels with the Hello: the guest is unique before anyone can use it.
    auto refresh = TRY(make_refresh());
    auto state = detail::start_sandbox(std::move(options), jail.jailed, arguments, deadline, &refresh);
    if (!state) {
        // A snapshot husk-vmm refuses (it exits at once, saying why) is the caller's mistake, not
        // a guest that is slow to boot.
        auto error = std::move(state).error();
        if (error.kind == ErrorKind::VmDied || error.kind == ErrorKind::VmmStartFailed)
            error.kind = ErrorKind::BadConfig;
        return unexpected(std::move(error));
    }
    // A clone's network goes in a second Refresh: it needs the Hello answer's capabilities
    // (refresh() refuses an agent without RefreshNetwork) and, jailed, the words husk-vmm's
    // launcher wrote. On passt they are passt's fixed ones, which a snapshot taken through
    // libhusk on passt has already (one taken on a tap cannot be restored on passt: its offloads
    // are refused); they are sent all the same, for a guest snapshotted with other addresses.
    if (detail::has_network((*state)->options)) {
        protocol::Refresh network_refresh;
        network_refresh.network = (*state)->passt
            ? detail::passt_guest_kernel_arguments((*state)->options)
            : TRY(read_guest_network(*(*state)->temp_dir / detail::net_guest_file));
        TRY((*state)->client->refresh(network_refresh, deadline));
    }
    return Sandbox(std::move(*state));
}

} // namespace husk
