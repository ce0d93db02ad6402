// start, state, kill, delete, ps, list and features: small commands on the state directory and
// the container's monitor.
#include "sdk/oci/container_id.hpp"
#include "sdk/oci/container_monitor.hpp"
#include "sdk/oci/container_network.hpp"
#include "sdk/oci/oci_log.hpp"
#include "sdk/oci/oci_commands.hpp"
#include "sdk/oci/signal_name.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>

namespace husk::oci {

namespace {

    using namespace std::chrono_literals;

    void print(std::string const& text) { fwrite(text.data(), 1, text.size(), stdout); }

    // Waits until the monitor has gone (exited, or a zombie its parent has yet to reap).
    bool wait_until_stopped(ContainerRecord const& record, std::chrono::milliseconds limit)
    {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (ContainerStore::live_status(record) != ContainerStatus::Stopped) {
            if (std::chrono::steady_clock::now() > deadline)
                return false;
            std::this_thread::sleep_for(5ms);
        }
        return true;
    }

    // SIGKILL through the monitor (see signal_flag_kill), then for real if it has not ended in
    // time (a monitor still booting its VM handles signals only afterwards).
    Result<void> request_kill(ContainerRecord const& record, bool all)
    {
        sigval value {};
        value.sival_int = signal_flag_kill | (all ? signal_flag_all : 0);
        if (sigqueue(record.pid, SIGTERM, value) < 0 && errno != ESRCH)
            return fail_errno("cannot signal container " + record.id);
        if (wait_until_stopped(record, 10s))
            return {};
        if (kill(record.pid, SIGKILL) < 0 && errno != ESRCH)
            return fail_errno("cannot kill container " + record.id);
        if (!wait_until_stopped(record, 10s))
            return fail(ErrorKind::Timeout, "container " + record.id + " did not stop after SIGKILL");
        return {};
    }

} // namespace

Result<int> start_container(GlobalOptions const& globals, std::string const& id)
{
    ContainerStore store(globals.root);
    auto record = TRY(store.read(id));
    auto status = ContainerStore::live_status(record);
    if (status == ContainerStatus::Stopped)
        return fail(ErrorKind::BadConfig, "cannot start a container that has stopped");
    if (status == ContainerStatus::Running)
        return fail(ErrorKind::BadConfig, "cannot start an already running container");
    if (status != ContainerStatus::Created)
        return fail(ErrorKind::BadConfig, "cannot start a container in the " + std::string(status_name(status)) + " state");
    auto fifo = store.directory(id) + "/" + start_fifo_name;
    // O_NONBLOCK: ENXIO instead of blocking forever when the monitor is not reading.
    int fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return fail_errno("cannot start container " + id + ": " + fifo);
    char byte = 0;
    ssize_t written = write(fd, &byte, 1);
    int err = errno;
    close(fd);
    if (written != 1)
        return fail_errno("cannot start container " + id, err);
    // Returns once the process runs (or has already ended), as runc's start does.
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
        auto current = store.read(id);
        if (!current || ContainerStore::live_status(*current) != ContainerStatus::Created)
            return 0;
        std::this_thread::sleep_for(2ms);
    }
    return fail(ErrorKind::Timeout, "container " + id + " did not start within 30 s");
}

Result<int> print_state(GlobalOptions const& globals, std::string const& id)
{
    ContainerStore store(globals.root);
    auto record = TRY(store.read(id));
    print(oci_state_json(record, ContainerStore::live_status(record)));
    return 0;
}

Result<int> kill_container(GlobalOptions const& globals, std::string const& id, std::string const& signal_text, bool all)
{
    ContainerStore store(globals.root);
    auto record = TRY(store.read(id));
    int signo = TRY(parse_signal(signal_text));
    if (ContainerStore::live_status(record) == ContainerStatus::Stopped)
        return fail(ErrorKind::BadConfig, "container not running");
    if (signo == SIGKILL) {
        TRY(request_kill(record, all));
        return 0;
    }
    int sent = 0;
    if (all) {
        sigval value {};
        value.sival_int = signal_flag_all;
        sent = sigqueue(record.pid, signo, value);
    } else {
        sent = kill(record.pid, signo);
    }
    if (sent < 0)
        return fail_errno("cannot signal container " + id);
    return 0;
}

namespace {
    // The NIC `create` built in the engine's namespace (container_network.hpp), if it did.
    Result<void> release_nic(ContainerStore const& store, std::string const& id)
    {
        auto path = store.directory(id) + "/" + nic_record_file;
        if (access(path.c_str(), F_OK) != 0)
            return {};
        auto nic = TRY(parse_nic(TRY(read_small_file(path))));
        if (auto detached = detach_container_nic(nic); !detached)
            return fail("the container's NIC in " + nic.netns + ": " + detached.error().message);
        return {};
    }
} // namespace

Result<int> delete_container(GlobalOptions const& globals, std::string const& id, bool force)
{
    TRY(validate_container_id(id));
    ContainerStore store(globals.root);
    auto record = store.read(id);
    if (!record) {
        // A create that died half-way may leave a directory without a state.json.
        (void)release_nic(store, id);
        (void)store.remove(id);
        if (force)
            return 0;
        return unexpected(record.error());
    }
    auto status = ContainerStore::live_status(*record);
    if (status == ContainerStatus::Running && !force)
        return fail(ErrorKind::BadConfig, "cannot delete container " + id + " that is not stopped: running");
    if (status != ContainerStatus::Stopped) {
        // Created (not started) containers are deleted without --force, as runc does.
        TRY(request_kill(*record, true));
    }
    if (auto released = release_nic(store, id); !released)
        OciLog::warning(released.error().message);
    TRY(store.remove(id));
    return 0;
}

Result<int> list_processes(GlobalOptions const& globals, std::string const& id, std::string const& format)
{
    ContainerStore store(globals.root);
    auto record = TRY(store.read(id));
    bool alive = ContainerStore::live_status(record) != ContainerStatus::Stopped;
    if (format == "json") {
        nlohmann::json pids = nlohmann::json::array();
        if (alive)
            pids.push_back(record.pid);
        print(pids.dump() + "\n");
        return 0;
    }
    if (format != "table")
        return fail(ErrorKind::BadConfig, "invalid format option: " + format);
    print("PID\n");
    if (alive)
        print(std::to_string(record.pid) + "\n");
    return 0;
}

Result<int> list_containers(GlobalOptions const& globals, std::string const& format)
{
    ContainerStore store(globals.root);
    nlohmann::json containers = nlohmann::json::array();
    std::string table = "ID\tPID\tSTATUS\tBUNDLE\tCREATED\n";
    for (auto const& id : store.list()) {
        auto record = store.read(id);
        if (!record)
            continue;
        auto status = ContainerStore::live_status(*record);
        auto state = nlohmann::json::parse(oci_state_json(*record, status));
        containers.push_back(state);
        table += id + "\t" + std::to_string(status == ContainerStatus::Stopped ? 0 : record->pid) + "\t"
            + std::string(status_name(status)) + "\t" + record->bundle + "\t" + record->created + "\n";
    }
    print(format == "json" ? containers.dump() + "\n" : table);
    return 0;
}

Result<int> print_features()
{
    nlohmann::ordered_json features;
    features["ociVersionMin"] = "1.0.0";
    features["ociVersionMax"] = "1.1.0";
    features["hooks"] = nlohmann::json::array();
    features["mountOptions"] = nlohmann::json::array();
    features["linux"]["namespaces"] = nlohmann::json::array();
    features["linux"]["capabilities"] = nlohmann::json::array();
    features["linux"]["cgroup"] = { { "v1", false }, { "v2", false }, { "systemd", false }, { "systemdUser", false } };
    features["linux"]["seccomp"] = { { "enabled", false } };
    features["linux"]["apparmor"] = { { "enabled", false } };
    features["linux"]["selinux"] = { { "enabled", false } };
    features["annotations"] = { { "io.husk.runtime", "a micro-VM per container" } };
    print(features.dump(4) + "\n");
    return 0;
}

} // namespace husk::oci
