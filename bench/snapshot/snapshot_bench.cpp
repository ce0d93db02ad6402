// bench/snapshot: a ready sandbox from a snapshot against a cold boot, through libhusk, in one
// invocation: Sandbox::create + run({"true"}) and Sandbox::restore + run({"true"}) (restore
// includes the Refresh that makes the clone unique), alternated run by run; QEMU microvm
// boot-to-init with the same kernel and initramfs as the usual peer. Then `--clones` restores
// held at once, each after running `true`, and what they cost the host: Private_Dirty per
// husk-vmm process (smaps_rollup: memory only that clone uses) and the PSS of all of them.
// Prints medians and p99 and the ratios.
#include "bench/common/bench_arguments.hpp"
#include "bench/common/peer_vm.hpp"
#include "bench/common/sandbox_steps.hpp"
#include "bench/common/timed_rounds.hpp"
#include "husk/husk.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace husk::bench;

// kB of a field of /proc/PID/smaps_rollup.
uint64_t rollup_kib(pid_t pid, std::string const& field)
{
    std::ifstream rollup("/proc/" + std::to_string(pid) + "/smaps_rollup");
    std::string line;
    while (std::getline(rollup, line)) {
        if (line.starts_with(field + ":"))
            return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10);
    }
    return 0;
}

// The process that holds the VM: husk-vmm itself, or the child of a jailed VMM's launcher.
std::vector<pid_t> vm_processes(pid_t vmm_pid)
{
    std::vector<pid_t> pids { vmm_pid };
    for (auto const& entry : std::filesystem::directory_iterator("/proc")) {
        auto name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        std::ifstream status(entry.path() / "status");
        std::string line;
        while (std::getline(status, line)) {
            if (line.starts_with("PPid:") && std::atoi(line.c_str() + 5) == vmm_pid)
                pids.push_back(std::atoi(name.c_str()));
        }
    }
    return pids;
}

// Page faults of a process so far (/proc/PID/stat fields 10 and 12): a clone's guest memory is a
// private mapping of the snapshot's file, so every page the guest touches first costs one.
std::pair<uint64_t, uint64_t> minor_and_major_faults(pid_t pid)
{
    std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    auto after_name = text.rfind(')');
    if (after_name == std::string::npos)
        return { 0, 0 };
    std::istringstream fields(text.substr(after_name + 2));
    std::string field;
    uint64_t minor = 0;
    uint64_t major = 0;
    // From field 3 (state): minflt is the 8th of these, majflt the 10th.
    for (int index = 3; index <= 12 && fields >> field; ++index) {
        if (index == 10)
            minor = std::strtoull(field.c_str(), nullptr, 10);
        if (index == 12)
            major = std::strtoull(field.c_str(), nullptr, 10);
    }
    return { minor, major };
}

bool run_true(husk::Sandbox& sandbox)
{
    auto result = sandbox.run({ "true" });
    return result && result->ok();
}

} // namespace

int main(int argc, char** argv)
{
    VmImages images;
    int runs = 20;
    int clones = 20;
    bool no_jail = false;
    bool trace = false;
    bool restore_only = false;
    CLI::App app { "A sandbox restored from a snapshot against a cold one, and clones held at once", "husk_bench_snapshot" };
    add_image_options(app, images);
    app.add_option("--runs", runs, "Cold and restored sandboxes each")->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--clones", clones, "Clones held at once")->check(CLI::Range(0, 1000))->capture_default_str();
    app.add_flag("--no-jail", no_jail, "Run husk-vmm unjailed (seccomp only)");
    app.add_flag("--trace", trace, "Print where each sandbox's time went (libhusk's step trace)");
    app.add_flag("--restore-only", restore_only,
        "Time restores only (no cold sandboxes, no QEMU): for A/B runs of the restore path");
    if (auto status = parse_bench_arguments(app, argc, argv))
        return *status;

    husk::SandboxOptions options;
    options.vmm_path = images.vmm;
    options.kernel_path = images.kernel;
    options.initrd_path = images.initrd;
    options.memory_bytes = 256ull << 20;
    images.memory_mib = 256;
    options.boot_timeout = std::chrono::minutes(5);
    if (no_jail)
        options.jail = husk::JailMode::Off;

    auto directory = std::filesystem::temp_directory_path() / ("husk-bench-snapshot-" + std::to_string(::getpid()));
    {
        auto original = husk::Sandbox::create(options);
        if (!original || !run_true(*original)) {
            std::fprintf(stderr, "husk: cannot boot the sandbox to snapshot\n");
            return 1;
        }
        auto taken = Clock::now();
        if (auto snapshot = original->snapshot(directory); !snapshot) {
            std::fprintf(stderr, "husk: snapshot: %s\n", snapshot.error().message.c_str());
            return 1;
        }
        auto took = millis_since(taken);
        struct stat memory_file { };
        ::stat((directory / "memory").c_str(), &memory_file);
        std::printf("snapshot of a 256 MiB guest: %.1f ms, memory file %.1f MiB on disk (sparse)\n", took,
            static_cast<double>(memory_file.st_blocks) * 512 / (1 << 20));
    }

    husk::detail::enable_step_trace(trace);
    SpawnRecord cold_record;
    SpawnRecord restore_record;
    TimedStep const steps[] = {
        { "cold create + run true", [&] { return time_create_and_run_true(options, &cold_record); } },
        { "restore + run true", [&] { return time_restore_and_run_true(directory, options, &restore_record); } },
        { "qemu boot to init", [&] { return time_qemu_boot_to_init(images); } },
    };
    auto samples = run_rounds(runs, restore_only ? std::span(steps).subspan(1, 1) : std::span(steps));
    if (!samples) {
        std::fprintf(stderr, "husk: %s\n", samples.error().message.c_str());
        return 1;
    }

    husk::detail::enable_step_trace(false);
    std::vector<husk::Sandbox> held;
    std::vector<double> private_mib;
    std::vector<double> minor_faults;
    std::vector<double> major_faults;
    double total_pss_mib = 0;
    for (int i = 0; i < clones; ++i) {
        auto clone = husk::Sandbox::restore(directory, options);
        if (!clone || !run_true(*clone)) {
            std::fprintf(stderr, "husk: clone %d failed\n", i);
            return 1;
        }
        held.push_back(std::move(*clone));
    }
    for (auto& clone : held) {
        double clone_private = 0;
        double clone_minor = 0;
        double clone_major = 0;
        for (pid_t pid : vm_processes(clone.vmm_pid())) {
            clone_private += static_cast<double>(rollup_kib(pid, "Private_Dirty")) / 1024;
            total_pss_mib += static_cast<double>(rollup_kib(pid, "Pss")) / 1024;
            auto [minor, major] = minor_and_major_faults(pid);
            clone_minor += static_cast<double>(minor);
            clone_major += static_cast<double>(major);
        }
        private_mib.push_back(clone_private);
        minor_faults.push_back(clone_minor);
        major_faults.push_back(clone_major);
    }
    held.clear();
    std::filesystem::remove_all(directory);

    if (restore_only) {
        auto restored = summarize((*samples)[0]);
        std::printf("restore + run true, %d runs, 256 MiB guest, %s: median %.1f ms  p99 %.1f ms\n", runs,
            !no_jail ? "jailed when root" : "not jailed (seccomp only)", restored.median, restored.p99);
        if (!restore_record.steps.empty())
            restore_record.steps.print("restore + run true + shutdown");
        return 0;
    }
    auto cold = summarize((*samples)[0]);
    auto restored = summarize((*samples)[1]);
    auto qemu = summarize((*samples)[2]);
    std::printf("ready sandbox running `true`, %d runs each, 256 MiB guest, %s\n", runs,
        !no_jail ? "jailed when root" : "not jailed (seccomp only)");
    std::printf("  cold: create + run        median %9.1f ms  p99 %9.1f ms\n", cold.median, cold.p99);
    std::printf("  snapshot: restore + run   median %9.1f ms  p99 %9.1f ms\n", restored.median, restored.p99);
    std::printf("  qemu microvm to init      median %9.1f ms  p99 %9.1f ms\n", qemu.median, qemu.p99);
    std::printf("  ratio restore/cold (medians) %.3f\n", cold.median > 0 ? restored.median / cold.median : 0.0);
    std::printf("  ratio restore/qemu-boot (medians) %.3f\n", qemu.median > 0 ? restored.median / qemu.median : 0.0);
    auto cold_teardown = summarize(cold_record.teardown_ms);
    auto restore_teardown = summarize(restore_record.teardown_ms);
    std::printf("  teardown (shutdown) cold  median %9.1f ms  p99 %9.1f ms\n", cold_teardown.median, cold_teardown.p99);
    std::printf("  teardown (shutdown) clone median %9.1f ms  p99 %9.1f ms\n", restore_teardown.median,
        restore_teardown.p99);
    if (!cold_record.steps.empty())
        cold_record.steps.print("cold create + run true + shutdown");
    if (!restore_record.steps.empty())
        restore_record.steps.print("restore + run true + shutdown");
    if (clones > 0) {
        auto memory = summarize(private_mib);
        std::printf("%d clones held at once after `true`: Private_Dirty per clone median %.1f MiB, max %.1f MiB; "
                    "PSS of all %.1f MiB\n",
            clones, memory.median, memory.p99, total_pss_mib);
        auto minor = summarize(minor_faults);
        auto major = summarize(major_faults);
        std::printf("  page faults per clone's husk-vmm processes, from exec to after `true`: minor median %.0f "
                    "(max %.0f), major median %.0f (max %.0f)\n",
            minor.median, minor.p99, major.median, major.p99);
    }
    return 0;
}
