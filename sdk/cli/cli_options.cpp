// CLI11 definitions of the husk commands. CLI11 reports problems by exception; they are caught
// here and turned into Results, so nothing else in the CLI deals with exceptions.
#include "sdk/cli/cli_options.hpp"

#include "husk/units.hpp"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <optional>

namespace husk::cli {

namespace {

    constexpr char const* run_description = "Run a command in a fresh micro-VM and remove the VM afterwards. "
                                            "stdin, stdout and stderr pass through; the exit status is the "
                                            "command's (125 husk failed, 126 cannot execute, 127 not found, "
                                            "128+N killed by signal N).";

    struct RawRun {
        unsigned vcpus { 1 };
        std::string memory { "256M" };
        std::vector<std::string> env;
        std::string workdir;
        std::string timeout;
        std::string boot_timeout { "30s" };
        std::string rootfs;
        std::vector<std::string> volumes;
        std::string kernel;
        std::string initrd;
        std::string vmm;
        std::string from;
        bool json { false };
        bool quiet { false };
        bool verbose { false };
        bool no_jail { false };
        bool jail { false };
        bool require_jail { false };
        std::string net { "none" };
        std::vector<std::string> publish;
        std::vector<std::string> net_dns;
    };

    // HOST_PORT:GUEST_PORT[/tcp] as docker's -p takes it (TCP only). husk-vmm checks it again.
    Result<PortMapping> parse_port_mapping(std::string const& text)
    {
        auto bad = [&] {
            return fail(
                ErrorKind::BadConfig, "--publish: expected HOST_PORT:GUEST_PORT (TCP, 1-65535), got '" + text + "'");
        };
        std::string ports = text;
        if (auto slash = text.find('/'); slash != std::string::npos) {
            if (text.substr(slash + 1) != "tcp")
                return fail(ErrorKind::BadConfig, "--publish: only TCP ports can be published, got '" + text + "'");
            ports = text.substr(0, slash);
        }
        auto colon = ports.find(':');
        if (colon == std::string::npos)
            return bad();
        auto port = [](std::string const& digits) -> std::optional<uint16_t> {
            if (digits.empty() || digits.size() > 5 || digits[0] == '0'
                || digits.find_first_not_of("0123456789") != std::string::npos)
                return std::nullopt;
            unsigned long value = std::stoul(digits);
            return value <= 65535 ? std::optional<uint16_t>(static_cast<uint16_t>(value)) : std::nullopt;
        };
        auto host = port(ports.substr(0, colon));
        auto guest = port(ports.substr(colon + 1));
        if (!host || !guest)
            return bad();
        return PortMapping { *host, *guest };
    }

    void define_run(CLI::App& run, RawRun& raw)
    {
        run.add_option("--vcpus", raw.vcpus, "Virtual CPUs (1-32)")->default_val(1)->check(CLI::Range(1, 32));
        run.add_option("--memory,-m", raw.memory, "Guest memory, e.g. 256M, 1G")->default_val("256M");
        run.add_option("--env,-e", raw.env, "Set NAME=value in the job (NAME alone: copy from here); repeatable");
        run.add_option("--workdir,-w", raw.workdir, "Working directory of the job (absolute)");
        run.add_option("--timeout,-t", raw.timeout, "Kill the job after this long, e.g. 30s, 500ms, 2m");
        run.add_option("--boot-timeout", raw.boot_timeout, "How long to wait for the VM to come up")
            ->default_val("30s");
        run.add_option("--rootfs", raw.rootfs,
            "Root filesystem: an ext4 image path, an image name from the assets (debian-python), or a "
            "directory (DIR: read-only, writes stay in the VM; DIR,rw: written in place)");
        run.add_option("--volume,-v", raw.volumes,
            "Share a host directory: HOST:GUEST[:ro] (docker's spelling; HOST may be relative); repeatable");
        run.add_option("--kernel", raw.kernel, "Guest kernel (default: the built or installed one)");
        run.add_option("--initrd", raw.initrd, "Guest initramfs (default: the built or installed one)");
        run.add_option("--vmm", raw.vmm, "husk-vmm binary (default: the built or installed one)");
        run.add_option("--from", raw.from,
            "Start from the snapshot in this directory (Sandbox::snapshot) instead of booting; give the --rootfs, "
            "the -v mounts and a --net it was taken with (a mount's host directory may be another, e.g. a copy; "
            "the --net policy may be another: the clone gets a network of its own)");
        auto* no_jail = run.add_flag(
            "--no-jail", raw.no_jail, "Run husk-vmm unjailed even as root (seccomp stays on); for debugging");
        run.add_flag(
               "--jail", raw.jail, "Jail husk-vmm when running as root (the default: own uid, namespaces, cgroup)")
            ->excludes(no_jail);
        run.add_flag("--require-jail", raw.require_jail,
               "Fail unless the VM runs jailed (own uid, namespaces, cgroup); the jail needs root")
            ->excludes(no_jail);
        run.add_option("--net", raw.net,
               "Guest network: none (default: no network device), internet (public addresses only) or "
               "allow=LIST of CIDR[:PORT] and NAME[:PORT]; private, metadata, host and other sandboxes' "
               "addresses are always denied. allow=LIST needs root (the jail); without root, internet goes "
               "through passt")
            ->default_val("none");
        run.add_option(
            "--publish,-p", raw.publish, "Forward host TCP port HOST to guest port GUEST (HOST:GUEST); repeatable");
        run.add_option("--net-dns", raw.net_dns,
            "Upstream DNS server of the sandbox's DNS forwarder (default: /etc/resolv.conf's); without root, "
            "the guest's resolver asks it directly; repeatable");
        run.add_flag("--json", raw.json, "Print one JSON result object instead of streaming the output");
        run.add_flag("--quiet,-q", raw.quiet, "No husk messages on stderr, only the job's output");
        // Not -v: that is --volume, as in docker.
        run.add_flag(
            "--verbose", raw.verbose, "Boot progress even when stderr is not a terminal, and husk-vmm's log in errors");
        run.prefix_command(); // the first non-option starts the job's argv
        run.footer("Example: husk run --memory 512M -e NAME=world -- sh -c 'echo hello $NAME'");
    }

    struct RawSnapshot {
        unsigned vcpus { 1 };
        std::string memory { "256M" };
        std::string boot_timeout { "30s" };
        std::string rootfs;
        std::string kernel;
        std::string initrd;
        std::string vmm;
        std::string directory;
        std::vector<std::string> volumes;
        std::string net { "none" };
        std::vector<std::string> net_dns;
        bool no_jail { false };
        bool quiet { false };
    };

    void define_snapshot_create(CLI::App& create, RawSnapshot& raw)
    {
        create.add_option("directory", raw.directory, "Where to write the snapshot (created if missing)")->required();
        create.add_option("--vcpus", raw.vcpus, "Virtual CPUs (1-32)")->default_val(1)->check(CLI::Range(1, 32));
        create.add_option("--memory,-m", raw.memory, "Guest memory, e.g. 256M, 1G")->default_val("256M");
        create.add_option("--boot-timeout", raw.boot_timeout, "How long to wait for the VM to come up")
            ->default_val("30s");
        create.add_option("--rootfs", raw.rootfs,
            "Root filesystem: an ext4 image path, or an image name from the assets (debian-python)");
        create.add_option("--kernel", raw.kernel, "Guest kernel (default: the built or installed one)");
        create.add_option("--initrd", raw.initrd, "Guest initramfs (default: the built or installed one)");
        create.add_option("--vmm", raw.vmm, "husk-vmm binary (default: the built or installed one)");
        create.add_option("--volume,-v", raw.volumes,
            "Mount host directory HOST at GUEST (HOST:GUEST[:ro]); husk run --from must give the same mounts, "
            "in the same order, on the same or copied directories");
        create.add_option("--net", raw.net,
                  "Snapshot a guest with a network device: internet or allow=LIST, as husk run --net; each "
                  "husk run --from needs a --net too and gets a network of its own, with its own policy")
            ->default_val("none");
        create.add_option("--net-dns", raw.net_dns,
            "Upstream DNS server of the snapshotted sandbox's DNS forwarder, as husk run --net-dns; repeatable");
        create.add_flag("--no-jail", raw.no_jail, "Run husk-vmm unjailed even as root (seccomp stays on)");
        create.add_flag("--quiet,-q", raw.quiet, "No message on success");
        create.footer("Example: husk snapshot create --rootfs debian-python /var/lib/husk/python && "
                      "husk run --from /var/lib/husk/python --rootfs debian-python -- python3 -c 'print(1)'");
    }

    Result<SnapshotCommand> finish_snapshot(RawSnapshot raw)
    {
        SnapshotCommand command;
        command.directory = raw.directory;
        command.sandbox.vcpus = raw.vcpus;
        command.sandbox.memory_bytes = TRY_CONTEXT(units::parse_size(raw.memory), "--memory");
        command.sandbox.boot_timeout = TRY_CONTEXT(units::parse_duration(raw.boot_timeout), "--boot-timeout");
        command.sandbox.rootfs_path = raw.rootfs;
        command.sandbox.kernel_path = raw.kernel;
        command.sandbox.initrd_path = raw.initrd;
        command.sandbox.vmm_path = raw.vmm;
        for (auto const& volume : raw.volumes)
            command.sandbox.mounts.push_back(TRY(parse_volume(volume)));
        command.sandbox.network = raw.net;
        command.sandbox.dns_servers = raw.net_dns;
        if (raw.no_jail)
            command.sandbox.jail = JailMode::Off;
        command.quiet = raw.quiet;
        return command;
    }

    Result<RunCommand> finish_run(RawRun raw, std::vector<std::string> argv)
    {
        RunCommand command;
        command.argv = std::move(argv);
        if (command.argv.empty())
            return fail(ErrorKind::BadConfig, "husk run: no command given (husk run [OPTIONS] -- CMD ARGS...)");
        command.sandbox.vcpus = raw.vcpus;
        command.sandbox.memory_bytes = TRY_CONTEXT(units::parse_size(raw.memory), "--memory");
        command.sandbox.boot_timeout = TRY_CONTEXT(units::parse_duration(raw.boot_timeout), "--boot-timeout");
        TRY(parse_rootfs(raw.rootfs, command.sandbox));
        for (auto const& volume : raw.volumes)
            command.sandbox.mounts.push_back(TRY(parse_volume(volume)));
        command.sandbox.kernel_path = raw.kernel;
        command.sandbox.initrd_path = raw.initrd;
        command.sandbox.vmm_path = raw.vmm;
        command.from_snapshot = raw.from;
        // Without a flag (or with --jail): the SDK's default, jailed when root (JailMode::Auto).
        if (raw.no_jail)
            command.sandbox.jail = JailMode::Off;
        else if (raw.require_jail)
            command.sandbox.jail = JailMode::Required;
        else if (raw.jail)
            command.sandbox.jail = JailMode::Auto;
        command.sandbox.network = raw.net;
        for (auto const& text : raw.publish)
            command.sandbox.publish.push_back(TRY(parse_port_mapping(text)));
        command.sandbox.dns_servers = raw.net_dns;
        if (!raw.timeout.empty()) {
            auto timeout = TRY_CONTEXT(units::parse_duration(raw.timeout), "--timeout");
            if (timeout.count() == 0)
                return fail(ErrorKind::BadConfig, "--timeout: must be more than 0");
            command.job.timeout = timeout;
        }
        for (auto const& entry : raw.env) {
            if (entry.empty() || entry[0] == '=')
                return fail(ErrorKind::BadConfig, "--env: expected NAME=value, got '" + entry + "'");
            if (entry.find('=') != std::string::npos) {
                command.job.env.push_back(entry);
            } else if (char const* value = std::getenv(entry.c_str())) {
                command.job.env.push_back(entry + "=" + value);
            }
        }
        if (!raw.workdir.empty() && raw.workdir[0] != '/')
            return fail(ErrorKind::BadConfig, "--workdir: must be an absolute path, got '" + raw.workdir + "'");
        command.job.workdir = raw.workdir;
        command.json = raw.json;
        command.quiet = raw.quiet;
        command.verbose = raw.verbose;
        if (command.quiet && command.verbose)
            return fail(ErrorKind::BadConfig, "husk run: --quiet and --verbose cannot go together");
        return command;
    }

} // namespace

Result<void> parse_rootfs(std::string_view text, SandboxOptions& sandbox)
{
    if (text.empty())
        return {};
    std::string_view path = text;
    std::optional<RootfsWrites> writes;
    if (path.ends_with(",ro") || path.ends_with(",rw")) {
        writes = path.ends_with(",rw") ? RootfsWrites::InPlace : RootfsWrites::Private;
        path.remove_suffix(3);
    }
    std::error_code error;
    if (!std::filesystem::is_directory(std::filesystem::path(path), error)) {
        if (writes)
            return fail(ErrorKind::BadConfig,
                "--rootfs " + std::string(text) + ": ,ro and ,rw are for a directory, and " + std::string(path)
                    + " is not one (an image is always read-only, under a private overlay)");
        sandbox.rootfs_path = std::string(text);
        return {};
    }
    auto absolute = std::filesystem::absolute(std::filesystem::path(path), error);
    if (error)
        return fail(
            ErrorKind::BadConfig, "--rootfs " + std::string(text) + ": cannot make it absolute: " + error.message());
    sandbox.rootfs_dir = absolute.lexically_normal().string();
    if (sandbox.rootfs_dir.size() > 1 && sandbox.rootfs_dir.ends_with('/'))
        sandbox.rootfs_dir.pop_back();
    sandbox.rootfs_writes = writes.value_or(RootfsWrites::Private);
    return {};
}

Result<Mount> parse_volume(std::string_view text)
{
    auto problem = [&](std::string const& why) {
        return fail(ErrorKind::BadConfig, "--volume " + std::string(text) + ": " + why + " (expected HOST:GUEST[:ro])");
    };
    Mount mount;
    std::string_view rest = text;
    if (rest.ends_with(":ro") || rest.ends_with(":rw")) {
        mount.read_only = rest.ends_with(":ro");
        rest.remove_suffix(3);
    }
    // The guest path cannot hold ':', so the last one separates it; the host path may have more.
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos)
        return problem("missing :GUEST");
    std::string_view host = rest.substr(0, colon);
    mount.guest = std::string(rest.substr(colon + 1));
    if (host.empty())
        return problem("empty HOST");
    if (mount.guest.empty() || mount.guest.front() != '/')
        return problem("GUEST must be an absolute path in the guest");
    std::error_code error;
    auto absolute = std::filesystem::absolute(std::filesystem::path(host), error);
    if (error)
        return problem("cannot make HOST absolute: " + error.message());
    mount.host = absolute.lexically_normal().string();
    if (mount.host.size() > 1 && mount.host.ends_with('/'))
        mount.host.pop_back();
    return mount;
}

Result<Command> parse_command_line(std::vector<std::string> const& argv)
{
    // The job's argv starts after the first `--`; CLI11 sees only what comes before.
    std::vector<std::string> options;
    std::vector<std::string> job;
    bool in_job = false;
    for (size_t i = 1; i < argv.size(); ++i) {
        if (!in_job && argv[i] == "--")
            in_job = true;
        else
            (in_job ? job : options).push_back(argv[i]);
    }

    CLI::App app { "husk: run untrusted code in micro-VMs", "husk" };
    app.require_subcommand(0, 1);
    bool version_flag = false;
    app.add_flag("--version,-V", version_flag, "Print the husk version (the same as husk version)");
    RawRun raw;
    auto* run = app.add_subcommand("run", run_description);
    define_run(*run, raw);
    auto* doctor = app.add_subcommand("doctor",
        "Check that this host can run husk, show the version and the husk-vmm, kernel and initramfs it will use, "
        "and say how to fix what is missing");
    auto* version = app.add_subcommand("version", "Print the husk version");
    auto* snapshot = app.add_subcommand("snapshot", "Snapshots of ready sandboxes (docs/snapshots.md)");
    snapshot->require_subcommand(1);
    RawSnapshot raw_snapshot;
    auto* snapshot_create = snapshot->add_subcommand(
        "create", "Boot a sandbox, wait for its agent and save a snapshot of it (restore with husk run --from)");
    define_snapshot_create(*snapshot_create, raw_snapshot);

    // Only flags may come before the command, so the first other word names it. CLI11 would call
    // an unknown one an unexpected argument; say what it is instead.
    for (auto const& word : options) {
        if (word.starts_with("-"))
            continue;
        if (word != "run" && word != "doctor" && word != "version" && word != "snapshot")
            return fail(ErrorKind::BadConfig, "unknown command '" + word + "' (see husk --help)");
        break;
    }

    Command command;
    try {
        std::vector<std::string> reversed(options.rbegin(), options.rend()); // CLI11 pops from the back
        app.parse(reversed);
    } catch (CLI::CallForHelp const&) {
        auto* shown = run->parsed() ? run
            : snapshot_create->parsed() ? snapshot_create
            : snapshot->parsed()        ? snapshot
            : (doctor->parsed() ? doctor : &app);
        command.help_text = shown->help();
        return command;
    } catch (CLI::CallForAllHelp const&) {
        command.help_text = app.help("", CLI::AppFormatMode::All);
        return command;
    } catch (CLI::ParseError const& error) {
        return fail(ErrorKind::BadConfig,
            std::string(error.what()) + (run->parsed() ? " (see husk run --help)" : " (see husk --help)"));
    }

    if (run->parsed()) {
        auto remaining = run->remaining();
        if (in_job && !remaining.empty())
            return fail(ErrorKind::BadConfig, "husk run: unexpected '" + remaining.front() + "' before --");
        // CLI11 stops at the first word it does not know; an unknown option is a mistake, not a job.
        if (!remaining.empty() && remaining.front().starts_with("-"))
            return fail(
                ErrorKind::BadConfig, "husk run: unknown option '" + remaining.front() + "' (see husk run --help)");
        remaining.insert(remaining.end(), job.begin(), job.end());
        command.kind = CommandKind::Run;
        command.run = TRY(finish_run(std::move(raw), std::move(remaining)));
    } else if (snapshot_create->parsed()) {
        command.kind = CommandKind::SnapshotCreate;
        command.snapshot = TRY(finish_snapshot(std::move(raw_snapshot)));
    } else if (doctor->parsed()) {
        command.kind = CommandKind::Doctor;
    } else if (version->parsed() || version_flag) {
        command.kind = CommandKind::Version;
    } else {
        command.help_text = app.help();
    }
    return command;
}

} // namespace husk::cli
