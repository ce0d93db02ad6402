// bench/boot: boot-to-init of husk-vmm against QEMU microvm with the same kernel and initramfs,
// run alternately in one invocation; husk-vmm's host-side setup time (exec -> first KVM_RUN, from
// the boot runs' --profile-setup line); VMM memory overhead and guest RAM resident on the host.
// --baseline-vmm / --baseline-arg add a second husk-vmm series (another build, or the same one
// with other options) to every round: an A/B in one invocation.
//
// Boot-to-init is measured the same way for all: from spawning the process to its exit, where
// each exits when husk-init writes its boot marker (husk-vmm --exit-at-boot-marker; QEMU with an
// isa-debug-exit device on the husk status port). Memory is sampled from /proc/PID/smaps while the
// guest idles in a `sleep`: the VMM's resident set outside guest RAM, and guest RAM's own
// resident set (with its transparent huge pages), once right after boot and once after a job
// that wrote and deleted 32 MiB in the guest.
#include "bench/common/bench_arguments.hpp"
#include "bench/common/peer_vm.hpp"
#include "bench/common/setup_profile_log.hpp"
#include "runtime/base/fd.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace husk::bench;

struct Options {
    VmImages images;
    int runs = 20;
    std::string baseline_vmm;
    std::vector<std::string> baseline_arguments;
    int settle_seconds = 15;
    bool skip_memory = false;
};

std::optional<double> time_to_exit_ms(std::vector<std::string> argv, std::string const& output = "/dev/null")
{
    auto start = Clock::now();
    pid_t pid = spawn_process(std::move(argv), output);
    if (pid < 0 || !wait_process_for(pid, vm_step_limit))
        return std::nullopt;
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct ResidentKib {
    uint64_t outside_guest { 0 };
    uint64_t guest { 0 };
    uint64_t guest_huge { 0 }; // AnonHugePages of guest RAM
};

// Resident kilobytes of a process outside and inside its guest RAM. Guest RAM is a mapping at
// least as large as the guest (QEMU's, with its alignment slack), or a run of adjacent mappings
// that spans exactly the guest's size: husk-vmm maps the kernel's and initrd's file pages into
// the middle of its anonymous guest RAM, which splits it into several mappings.
std::optional<ResidentKib> resident_kib(pid_t pid, uint64_t guest_bytes)
{
    auto smaps = husk::read_file("/proc/" + std::to_string(pid) + "/smaps", 64 << 20);
    if (!smaps)
        return std::nullopt;
    struct Mapping {
        uint64_t low { 0 }, high { 0 }, rss_kib { 0 }, huge_kib { 0 };
        bool guest { false };
    };
    std::vector<Mapping> mappings;
    std::istringstream lines(*smaps);
    std::string line;
    while (std::getline(lines, line)) {
        unsigned long long low = 0, high = 0, kib = 0;
        // Mapping headers read "start-end perms ..."; field lines read "Name: value".
        if (std::sscanf(line.c_str(), "%llx-%llx ", &low, &high) == 2)
            mappings.push_back({ low, high, 0, 0, high - low >= guest_bytes });
        else if (!mappings.empty() && std::sscanf(line.c_str(), "Rss: %llu kB", &kib) == 1)
            mappings.back().rss_kib = kib;
        else if (!mappings.empty() && std::sscanf(line.c_str(), "AnonHugePages: %llu kB", &kib) == 1)
            mappings.back().huge_kib = kib;
    }
    std::sort(mappings.begin(), mappings.end(), [](auto& a, auto& b) { return a.low < b.low; });
    for (size_t first = 0; first < mappings.size(); ++first) {
        size_t end = first;
        uint64_t reached = mappings[first].low;
        while (end < mappings.size() && mappings[end].low == reached && reached - mappings[first].low < guest_bytes)
            reached = mappings[end++].high;
        if (reached - mappings[first].low == guest_bytes) {
            for (size_t i = first; i < end; ++i)
                mappings[i].guest = true;
        }
    }
    ResidentKib total;
    for (auto const& mapping : mappings) {
        if (mapping.guest) {
            total.guest += mapping.rss_kib;
            total.guest_huge += mapping.huge_kib;
        } else {
            total.outside_guest += mapping.rss_kib;
        }
    }
    return total;
}

std::optional<ResidentKib> settled_resident_kib(std::vector<std::string> argv, uint64_t guest_bytes, int settle_seconds)
{
    pid_t pid = spawn_process(std::move(argv), "/dev/null");
    if (pid < 0)
        return std::nullopt;
    // Under the lab's TCG the guest reaches init in a few seconds; sample once it idles.
    std::this_thread::sleep_for(std::chrono::seconds(settle_seconds));
    auto resident = resident_kib(pid, guest_bytes);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return resident;
}

// One VMM compared: how to boot it to its boot marker and how to start it with a job.
struct Series {
    std::string name;
    bool husk { true };
    std::vector<std::string> husk_vmm_arguments; // after the image options, before the job
    std::string vmm;
    std::vector<double> boot_ms, setup_ms;
    std::optional<ResidentKib> idle, after_job;
};

std::vector<std::string> series_command(Options const& options, Series const& series, bool boot_marker,
    std::vector<std::string> const& job)
{
    if (!series.husk)
        return qemu_command(options.images, { .exit_at_boot_marker = boot_marker, .vsock_cid = std::nullopt }, job);
    auto images = options.images;
    images.vmm = series.vmm;
    std::vector<std::string> extra = series.husk_vmm_arguments;
    if (boot_marker)
        extra.insert(extra.end(), { "--exit-at-boot-marker", "--profile-setup" });
    extra.push_back("--");
    extra.insert(extra.end(), job.begin(), job.end());
    return husk_command(images, extra);
}

std::string mib(std::optional<uint64_t> kib)
{
    if (!kib)
        return "not measured";
    char text[32];
    std::snprintf(text, sizeof text, "%.2f MiB", *kib / 1024.0);
    return text;
}

} // namespace

int main(int argc, char** argv)
{
    Options options;
    CLI::App app { "Boot-to-init of husk-vmm against QEMU microvm, host-side setup, VMM memory", "husk_bench_boot" };
    add_image_options(app, options.images);
    app.add_option("--runs", options.runs, "Boots of each VMM")->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_option("--baseline-vmm", options.baseline_vmm, "A second husk-vmm, booted in every round too (A/B)");
    app.add_option("--baseline-arg", options.baseline_arguments,
        "An option for the baseline husk-vmm (repeatable; with no --baseline-vmm: --vmm with these options)")
        ->allow_extra_args(false);
    app.add_option("--settle-seconds", options.settle_seconds, "Wait before sampling memory, after spawn")
        ->check(CLI::Range(1, 600))
        ->capture_default_str();
    app.add_flag("--skip-memory", options.skip_memory, "Boot times only");
    if (auto status = parse_bench_arguments(app, argc, argv))
        return *status;

    std::vector<Series> series;
    series.push_back({ "husk-vmm", true, {}, options.images.vmm, {}, {}, {}, {} });
    if (!options.baseline_vmm.empty() || !options.baseline_arguments.empty()) {
        std::string vmm = options.baseline_vmm.empty() ? options.images.vmm : options.baseline_vmm;
        series.push_back({ "baseline husk-vmm", true, options.baseline_arguments, vmm, {}, {}, {}, {} });
    }
    series.push_back({ "qemu -M microvm", false, {}, options.images.qemu, {}, {}, {}, {} });

    std::string husk_log = "/tmp/husk-bench-boot-" + std::to_string(::getpid()) + ".log";
    for (int run = 0; run < options.runs; ++run) {
        // Every VMM once per round, each round starting with the next one, so drift in the
        // machine and the cost of going first affect all alike.
        for (size_t step = 0; step < series.size(); ++step) {
            auto& one = series[(run + step) % series.size()];
            auto spawned_ns = monotonic_ns();
            auto ms = time_to_exit_ms(series_command(options, one, true, { "true" }), one.husk ? husk_log : "/dev/null");
            if (!ms) {
                std::fprintf(stderr, "\nrun %d: %s did not exit (killed after %d minutes) or could not start\n",
                    run + 1, one.name.c_str(), static_cast<int>(vm_step_limit.count()));
                continue;
            }
            one.boot_ms.push_back(*ms);
            if (one.husk) {
                if (auto setup = read_setup_profile(husk_log, spawned_ns))
                    one.setup_ms.push_back(setup->exec_to_first_run_ms);
            }
        }
        std::fprintf(stderr, "\rrun %d/%d", run + 1, options.runs);
    }
    ::unlink(husk_log.c_str());
    std::fprintf(stderr, "\n");
    for (auto const& one : series) {
        if (one.boot_ms.empty() || (one.husk && one.setup_ms.empty())) {
            std::fprintf(stderr, "bench/boot: %s failed to start\n", one.name.c_str());
            return 1;
        }
    }
    uint64_t guest_bytes = options.images.memory_mib << 20;
    if (!options.skip_memory) {
        std::vector<std::string> const idle_job { "sleep", "60" };
        std::vector<std::string> const memory_job { "sh", "-c",
            "dd if=/dev/zero of=/tmp/husk-bench-fill bs=1M count=32 2>/dev/null; rm -f /tmp/husk-bench-fill; sleep 60" };
        for (auto& one : series) {
            one.idle = settled_resident_kib(series_command(options, one, false, idle_job), guest_bytes, options.settle_seconds);
            one.after_job = settled_resident_kib(
                series_command(options, one, false, memory_job), guest_bytes, options.settle_seconds + 10);
        }
    }

    auto& husk = series.front();
    auto& qemu = series.back();
    auto qemu_boot = summarize(qemu.boot_ms);
    std::printf("boot-to-init (exec -> init's boot marker), %d runs, %llu MiB guest\n", options.runs,
        static_cast<unsigned long long>(options.images.memory_mib));
    for (auto const& one : series) {
        auto boot = summarize(one.boot_ms);
        std::printf("  %-22s median %8.1f ms   p99 %8.1f ms\n", one.name.c_str(), boot.median, boot.p99);
    }
    for (auto const& one : series) {
        if (!one.husk)
            continue;
        auto boot = summarize(one.boot_ms);
        std::printf("  %-22s median %8.2f       p99 %8.2f\n",
            &one == &husk ? "ratio husk/qemu" : "ratio baseline/qemu", boot.median / qemu_boot.median,
            boot.p99 / qemu_boot.p99);
    }
    if (series.size() == 3) {
        auto a = summarize(husk.boot_ms), b = summarize(series[1].boot_ms);
        std::printf("  %-22s median %8.2f       p99 %8.2f\n", "ratio husk/baseline", a.median / b.median,
            a.p99 / b.p99);
    }
    for (auto const& one : series) {
        if (!one.husk)
            continue;
        auto setup = summarize(one.setup_ms);
        std::printf("%s host-side setup (exec -> first KVM_RUN): median %.1f ms  p99 %.1f ms\n",
            one.name.c_str(), setup.median, setup.p99);
    }
    if (options.skip_memory)
        return 0;
    std::printf("VMM resident memory excluding guest RAM (guest idle at init):\n");
    auto outside = [](Series const& one) {
        return one.idle && one.idle->outside_guest > 0 ? mib(one.idle->outside_guest) : std::string("not measured");
    };
    std::printf("  husk-vmm %s   qemu %s\n", outside(husk).c_str(), outside(qemu).c_str());
    if (series.size() == 3)
        std::printf("  baseline husk-vmm %s\n", outside(series[1]).c_str());
    std::printf("guest RAM resident on the host (of %llu MiB; of that in transparent huge pages):\n",
        static_cast<unsigned long long>(options.images.memory_mib));
    for (auto const& one : series) {
        auto guest = [](std::optional<ResidentKib> const& kib) {
            return kib ? mib(kib->guest) + " (" + mib(kib->guest_huge) + " huge)" : std::string("not measured");
        };
        std::printf("  %-22s idle at init %s   after a 32 MiB job %s\n", one.name.c_str(), guest(one.idle).c_str(),
            guest(one.after_job).c_str());
    }
    return 0;
}
