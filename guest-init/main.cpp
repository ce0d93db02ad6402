// husk-init: PID 1 of a husk guest. Mounts the kernel filesystems, takes the console, runs the one
// job the kernel command line names (everything after ` -- `), reports its outcome to the host
// through the status device and resets the machine. With no job there it serves the job protocol
// over vsock instead (agent mode, guest-init/agent/) until a host sends Shutdown, then reports
// exit code 0. It never exits: PID 1 exiting panics the kernel, which the host reads as a crash.
#include "guest-init/agent/agent_mode.hpp"
#include "guest-init/console.hpp"
#include "guest-init/job.hpp"
#include "guest-init/kernel_cmdline.hpp"
#include "guest-init/mounts.hpp"
#include "guest-init/network_setup.hpp"
#include "guest-init/root_switch.hpp"
#include "guest-init/share_mounts.hpp"
#include "guest-init/shutdown.hpp"
#include "guest-init/status_reporter.hpp"
#include "runtime/base/fd.hpp"

#include <cstdlib>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

using namespace husk;
using namespace husk::init;

namespace {

constexpr char const* hostname = "husk";
constexpr char const* job_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr char const* job_home = "/root";
constexpr char const* job_term = "linux";
constexpr size_t cmdline_size_limit = 64 * 1024;

enum class BootHealth { Ok, Broken };

// Messages from before the console exists wait here; writing to fd 2 then could hit nothing.
std::vector<std::string> g_early_messages;

void report_failure(std::string message) { g_early_messages.push_back(std::move(message)); }

BootHealth mount_all()
{
    auto health = BootHealth::Ok;
    for (auto const& spec : boot_mounts()) {
        auto mounted = mount_filesystem(spec);
        if (mounted)
            continue;
        if (spec.need == MountNeed::Optional) {
            report_failure(mounted.error().message + " (optional, continuing)");
            continue;
        }
        report_failure(mounted.error().message);
        health = BootHealth::Broken;
    }
    return health;
}

// The job's environment: the kernel gives init HOME=/ and TERM=linux plus any unknown
// `name=value` boot parameter; those extra variables stay (they are how a cmdline passes env).
void set_job_environment()
{
    setenv("PATH", job_path, 1);
    setenv("HOME", job_home, 1);
    setenv("TERM", job_term, 1);
}

JobOutcome run_job(std::vector<std::string> const& argv)
{
    if (argv.empty()) {
        console_message("no job: nothing after ` -- ` on the kernel command line");
        return JobOutcome::spawn_failed(SpawnError::Other);
    }
    auto pid = spawn_job(argv);
    if (!pid) {
        console_message(pid.error().message);
        return JobOutcome::spawn_failed(spawn_error_from_errno(pid.error().errno_value));
    }
    auto outcome = wait_for_job(*pid);
    if (!outcome) {
        console_message(outcome.error().message);
        return JobOutcome::spawn_failed(SpawnError::Other);
    }
    return *outcome;
}

// Agent mode. A failure to serve at all (no vsock) ends the guest at once with a spawn error, so
// the host is not left waiting on a silent VM.
JobOutcome serve_agent_mode(StatusReporter const* reporter)
{
    // husk-vmm holds host connects on a cold boot until this report (not the boot marker, which
    // times the boot and comes before the mounts and the network).
    auto report_listening = [reporter] {
        if (reporter)
            reporter->report_agent_listening();
    };
    if (auto served = agent::serve_agent(report_listening); !served) {
        console_message(served.error().message);
        return JobOutcome::spawn_failed(SpawnError::Other);
    }
    return JobOutcome::exited(0);
}

// husk.root=/dev/vdX or 9p:TAG[:rw]: leave the initramfs for that root (see root_switch.hpp).
BootHealth enter_root(KernelCmdline const& cmdline)
{
    auto config = root_config(cmdline);
    if (!config) {
        console_message(config.error().message);
        return BootHealth::Broken;
    }
    if (!*config)
        return BootHealth::Ok;
    if (auto switched = switch_root(**config); !switched) {
        console_message((*config)->describe() + ": " + switched.error().message);
        return BootHealth::Broken;
    }
    return BootHealth::Ok;
}

// Loopback always; eth0 only when the command line configures it (husk.ip, see
// network_config.hpp). Without those, or with a malformed one, eth0 stays down: no network.
void configure_network(KernelCmdline const* cmdline)
{
    if (auto up = bring_up_loopback(); !up)
        console_message("network: " + up.error().message);
    if (cmdline == nullptr)
        return;
    auto config = network_config(*cmdline);
    if (!config) {
        console_message("network: " + config.error().message + "; eth0 stays down");
        return;
    }
    if (!*config)
        return;
    if (auto configured = configure_interface(guest_interface, **config); !configured) {
        console_message("network: " + configured.error().message);
        return;
    }
    if (auto written = write_resolv_conf(**config); !written)
        console_message("network: " + written.error().message);
}

// husk.mount=TAG:/path[:ro]: the host's shared directories, on the final root before the job.
BootHealth mount_shares(KernelCmdline const& cmdline)
{
    auto mounts = share_mounts(cmdline);
    if (!mounts) {
        console_message(mounts.error().message);
        return BootHealth::Broken;
    }
    for (auto const& share : *mounts) {
        if (auto mounted = mount_share(share); !mounted) {
            console_message(mounted.error().message);
            return BootHealth::Broken;
        }
    }
    return BootHealth::Ok;
}

} // namespace

int main(int argc, char** argv)
{
    auto health = BootHealth::Ok;
    if (auto mounted = mount_filesystem(proc_mount()); !mounted) {
        report_failure(mounted.error().message);
        health = BootHealth::Broken;
    }

    // The host measures boot-to-init by this marker, so it goes out before anything slow.
    std::optional<StatusReporter> reporter;
    if (auto created = StatusReporter::create()) {
        reporter = *created;
        reporter->report_boot();
    } else {
        report_failure(created.error().message + "; the host gets no status");
    }

    if (mount_all() == BootHealth::Broken)
        health = BootHealth::Broken;
    if (auto attached = attach_standard_fds({ console_path, null_device_path }); !attached) {
        report_failure(attached.error().message);
        health = BootHealth::Broken;
    }
    for (auto const& message : g_early_messages)
        console_message(message);

    if (sethostname(hostname, std::char_traits<char>::length(hostname)) < 0)
        console_message(Error::from_errno("sethostname").message);
    set_job_environment();

    std::optional<KernelCmdline> cmdline;
    if (auto text = read_file("/proc/cmdline", cmdline_size_limit))
        cmdline = parse_kernel_cmdline(*text);
    else
        console_message(text.error().message + "; using argv as the job");

    if (cmdline && health == BootHealth::Ok && enter_root(*cmdline) == BootHealth::Broken)
        health = BootHealth::Broken;
    if (cmdline && health == BootHealth::Ok && mount_shares(*cmdline) == BootHealth::Broken)
        health = BootHealth::Broken;

    if (health == BootHealth::Ok)
        configure_network(cmdline ? &*cmdline : nullptr);

    // TEST-ONLY HOOK: `husk.test_crash=panic` on the kernel command line makes PID 1 exit right
    // after boot, so the kernel panics ("Attempted to kill init") and, with panic=-1, resets
    // without the shutdown intent. The lab tests use it to prove a guest crash ends the VM with a
    // crash status quickly. Never set it in production.
    if (cmdline && test_crash_hook(*cmdline) == TestCrashHook::Panic) {
        console_message("husk.test_crash=panic: exiting PID 1 on purpose (test hook)");
        return EXIT_FAILURE;
    }

    JobOutcome outcome = JobOutcome::spawn_failed(SpawnError::Other);
    if (health == BootHealth::Ok) {
        std::vector<std::string> arguments(argv, argv + argc);
        auto job = job_arguments(arguments, cmdline ? &*cmdline : nullptr);
        outcome = job.empty() ? serve_agent_mode(reporter ? &*reporter : nullptr) : run_job(job);
    } else {
        console_message("boot failed; not starting the job");
    }
    if (reporter)
        reporter->report_job(outcome);

    terminate_all_processes(termination_grace);
    reset_machine(reporter ? &*reporter : nullptr);
}
