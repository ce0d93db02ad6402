// CLI11 definitions of husk-oci's commands. CLI11 reports problems by exception; they are caught
// here, so nothing else in husk-oci deals with exceptions.
#include "sdk/oci/oci_cli.hpp"

#include "sdk/oci/oci_commands.hpp"
#include "sdk/oci/oci_log.hpp"

#include "husk/version.hpp"

#include <CLI/CLI.hpp>
#include <functional>

namespace husk::oci {

namespace {

    struct Parsed {
        GlobalOptions globals;
        CreateArguments create;
        ExecArguments exec;
        std::string id;
        std::string signal { "SIGTERM" };
        std::string format { "table" };
        bool all { false };
        bool force { false };
        std::vector<std::string> ignored;
        std::function<Result<int>()> action;
    };

    void refuse(CLI::App& app, std::string name, std::string why, Parsed& parsed)
    {
        // No help flag: `checkpoint --help` must fail, or callers would think it exists.
        auto* command = app.add_subcommand(name, why);
        command->set_help_flag();
        command->allow_extras();
        command->prefix_command();
        command->callback([&parsed, name, why] {
            parsed.action = [name, why]() -> Result<int> { return fail(ErrorKind::BadConfig, name + ": " + why); };
        });
    }

    void define(CLI::App& app, Parsed& parsed)
    {
        auto& globals = parsed.globals;
        app.add_option("--root", globals.root, "State directory (one directory per container)")
            ->default_val(default_state_root);
        app.add_option("--log", globals.log_path, "Append log lines to this file");
        app.add_option("--log-format", globals.log_format, "Log format: text or json")
            ->check(CLI::IsMember({ "text", "json" }));
        app.add_flag("--systemd-cgroup", globals.systemd_cgroup,
            "Accepted for compatibility; the VMM runs in husk's own cgroup (docs/oci.md)");
        app.add_flag("--debug", globals.debug, "Accepted for compatibility");
        app.add_option("--rootless", parsed.ignored, "Accepted for compatibility")->expected(0, 1);
        app.add_option("--criu", parsed.ignored, "Accepted for compatibility (there is no checkpointing)");
        app.require_subcommand(1);

        auto* create = app.add_subcommand("create", "Create a container: boot its VM, ready to start");
        auto& c = parsed.create;
        create->add_option("--bundle,-b", c.bundle, "The bundle directory (config.json, rootfs)")->default_val(".");
        create->add_option("--pid-file", c.pid_file, "Write the container's pid here");
        create->add_option("--console-socket", c.console_socket, "Unix socket receiving the pty master");
        create->add_option("--preserve-fds", c.preserve_fds, "Accepted; descriptors cannot reach a VM");
        create->add_flag("--no-pivot", c.no_pivot, "Accepted (the guest switches root itself)");
        create->add_flag("--no-new-keyring", c.no_new_keyring, "Accepted (the guest has its own keyrings)");
        create->add_option("id", c.id, "Container id")->required();
        create->callback([&parsed] { parsed.action = [&parsed] { return create_container(parsed.globals, parsed.create); }; });

        auto* start = app.add_subcommand("start", "Start the process of a created container");
        start->add_option("id", parsed.id)->required();
        start->callback([&parsed] { parsed.action = [&parsed] { return start_container(parsed.globals, parsed.id); }; });

        auto* state = app.add_subcommand("state", "Print a container's state as JSON");
        state->add_option("id", parsed.id)->required();
        state->callback([&parsed] { parsed.action = [&parsed] { return print_state(parsed.globals, parsed.id); }; });

        auto* kill = app.add_subcommand("kill", "Send a signal (number or name, default SIGTERM) to the container");
        kill->add_flag("--all,-a", parsed.all, "Signal every process of the container");
        kill->add_option("id", parsed.id)->required();
        kill->add_option("signal", parsed.signal)->default_val("SIGTERM");
        kill->callback([&parsed] {
            parsed.action = [&parsed] { return kill_container(parsed.globals, parsed.id, parsed.signal, parsed.all); };
        });

        auto* remove = app.add_subcommand("delete", "Delete a stopped (or, with --force, any) container");
        remove->add_flag("--force,-f", parsed.force, "Kill it first if it runs");
        remove->add_option("id", parsed.id)->required();
        remove->callback([&parsed] {
            parsed.action = [&parsed] { return delete_container(parsed.globals, parsed.id, parsed.force); };
        });

        auto* ps = app.add_subcommand("ps", "List the container's host processes");
        ps->add_option("--format,-f", parsed.format)->check(CLI::IsMember({ "table", "json" }));
        ps->add_option("id", parsed.id)->required();
        ps->add_option("ps-arguments", parsed.ignored, "Ignored (there is no ps of the guest yet)");
        ps->callback([&parsed] {
            parsed.action = [&parsed] { return list_processes(parsed.globals, parsed.id, parsed.format); };
        });

        auto* list = app.add_subcommand("list", "List containers");
        list->alias("ls");
        list->add_option("--format,-f", parsed.format)->check(CLI::IsMember({ "table", "json" }));
        list->callback([&parsed] { parsed.action = [&parsed] { return list_containers(parsed.globals, parsed.format); }; });

        auto* exec = app.add_subcommand("exec", "Run another process in a container");
        auto& e = parsed.exec;
        exec->add_option("--process,-p", e.process_file, "process.json to run");
        exec->add_flag("--detach,-d", e.detach, "Return at once; the pid file names the process's stand-in");
        exec->add_flag("--tty,-t", e.tty, "Give the process a terminal");
        exec->add_option("--pid-file", e.pid_file, "Write the process's pid here");
        exec->add_option("--console-socket", e.console_socket, "Unix socket receiving the pty master");
        exec->add_option("--cwd", e.cwd, "Working directory (without --process)");
        exec->add_option("--env,-e", e.env, "NAME=value (without --process)");
        exec->add_option("--preserve-fds", parsed.ignored, "Accepted; descriptors cannot reach a VM");
        exec->add_option("id", e.id)->required();
        exec->add_option("command", e.command, "Command and arguments (without --process)");
        exec->callback([&parsed] { parsed.action = [&parsed] { return exec_in_container(parsed.globals, parsed.exec); }; });

        auto* features = app.add_subcommand("features", "Print the runtime's features as JSON");
        features->callback([&parsed] { parsed.action = [] { return print_features(); }; });

        refuse(app, "checkpoint", "not supported: husk-oci has no CRIU checkpointing", parsed);
        refuse(app, "restore", "not supported: husk-oci has no CRIU checkpointing", parsed);
        refuse(app, "pause", "not supported yet: a paused VM is not implemented", parsed);
        refuse(app, "resume", "not supported yet: a paused VM is not implemented", parsed);
        refuse(app, "update", "not supported yet: a running VM's size cannot change", parsed);
        refuse(app, "run", "not supported: use create and start", parsed);
    }

} // namespace

int run_oci_cli(int argc, char** argv)
{
    CLI::App app { "husk-oci: an OCI runtime (runc's command line) running each container in a husk micro-VM",
        "husk-oci" };
    app.set_version_flag("--version,-v",
        "husk-oci version " + std::string(husk::version()) + "\nspec: 1.0.2\n");
    Parsed parsed;
    define(app, parsed);
    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& error) {
        int code = app.exit(error);
        return code == 0 ? 0 : 1;
    }
    OciLog::configure(parsed.globals.log_path, parsed.globals.log_format == "json" ? LogFormat::Json : LogFormat::Text);
    if (!parsed.action)
        return 1;
    auto result = parsed.action();
    if (!result) {
        OciLog::error(result.error().message);
        return 1;
    }
    return *result;
}

} // namespace husk::oci
