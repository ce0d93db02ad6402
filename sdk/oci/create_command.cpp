// `create`: parse the bundle, plan its mounts, fork the container monitor and wait for it
// to report the VM booted and process.args[0] found, then write the pid file.
#include "sdk/oci/container_id.hpp"
#include "sdk/oci/container_monitor.hpp"
#include "sdk/oci/container_mounts.hpp"
#include "sdk/oci/container_network.hpp"
#include "sdk/oci/oci_commands.hpp"
#include "sdk/oci/oci_log.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace husk::oci {

namespace {

    Result<std::string> absolute_path(std::string const& path)
    {
        char resolved[PATH_MAX];
        if (!realpath(path.c_str(), resolved))
            return fail_errno("bundle " + path);
        return std::string(resolved);
    }

    // The monitor's one-line report: "ok", or "error <message>"; EOF without one means it died.
    Result<void> await_report(int fd, pid_t monitor)
    {
        std::string text;
        char buffer[4096];
        while (true) {
            ssize_t n = read(fd, buffer, sizeof buffer);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            text.append(buffer, static_cast<size_t>(n));
        }
        close(fd);
        while (!text.empty() && text.back() == '\n')
            text.pop_back();
        if (text == "ok")
            return {};
        int status = 0;
        while (waitpid(monitor, &status, 0) < 0 && errno == EINTR) { }
        if (text.starts_with("error "))
            return fail(ErrorKind::BadConfig, text.substr(6));
        return fail("the container's monitor died while creating it");
    }

} // namespace

Result<int> create_container(GlobalOptions const& globals, CreateArguments const& arguments)
{
    TRY(validate_container_id(arguments.id));
    auto bundle = TRY(absolute_path(arguments.bundle));
    auto config = TRY(load_bundle_config(bundle));
    if (!config.unsupported_fields.empty()) {
        std::string fields;
        for (auto const& field : config.unsupported_fields)
            fields += (fields.empty() ? "" : ", ") + field;
        return fail(ErrorKind::BadConfig, "config.json asks for what husk-oci does not support: " + fields);
    }
    if (config.process.terminal && arguments.console_socket.empty())
        return fail(ErrorKind::BadConfig, "cannot allocate tty if husk-oci will detach without setting console socket");
    if (!config.process.terminal && !arguments.console_socket.empty())
        return fail(ErrorKind::BadConfig, "cannot use console socket if husk-oci will not detach or allocate tty");
    // Refused before anything is built; what is left out on purpose is said once, here.
    auto mounts = TRY(plan_container_mounts(config.mounts, host_file_kind));
    for (auto const& warning : mounts.not_applied)
        OciLog::warning(warning);
    if (arguments.preserve_fds > 0)
        OciLog::warning("--preserve-fds " + std::to_string(arguments.preserve_fds)
            + ": host descriptors cannot reach a VM; the container does not get them");

    ContainerStore store(globals.root);
    TRY(store.create_directory(arguments.id));
    std::optional<ContainerNic> nic;
    auto undo = [&](Error error) -> Result<int> {
        if (nic)
            (void)detach_container_nic(*nic);
        (void)store.remove(arguments.id);
        return unexpected(std::move(error));
    };

    ContainerRecord record;
    record.id = arguments.id;
    record.bundle = bundle;
    record.rootfs = rootfs_directory(bundle, config);
    record.created = rfc3339_now();
    record.annotations = config.annotations;
    record.status = ContainerStatus::Creating;
    if (auto written = store.write(record); !written)
        return undo(written.error());
    // The engine's network namespace: its address moves into the VM (container_network.hpp).
    if (config.network_namespace) {
        auto attached = attach_container_nic(*config.network_namespace);
        if (!attached)
            return undo(attached.error());
        nic = *attached;
        if (nic) {
            auto path = store.directory(arguments.id) + "/" + nic_record_file;
            if (auto written = write_file_atomically(path, nic_to_json(*nic)); !written)
                return undo(written.error());
        }
    }

    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0)
        return undo(Error::from_errno("pipe"));
    pid_t monitor = fork();
    if (monitor < 0)
        return undo(Error::from_errno("fork"));
    if (monitor == 0) {
        close(report[0]);
        run_container_monitor(MonitorLaunch { store, record, config, arguments.console_socket, report[1], nic });
    }
    close(report[1]);
    if (auto reported = await_report(report[0], monitor); !reported)
        return undo(reported.error());
    if (!arguments.pid_file.empty()) {
        if (auto written = write_file_atomically(arguments.pid_file, std::to_string(monitor), 0644); !written) {
            kill(monitor, SIGKILL);
            return undo(written.error());
        }
    }
    return 0;
}

} // namespace husk::oci
