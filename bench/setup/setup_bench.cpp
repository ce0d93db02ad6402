// bench/setup: husk-vmm's host-side setup, exec to the first KVM_RUN, phase by phase. Needs no
// guest execution, so it runs natively on any /dev/kvm that can create a VM (PVM included: the
// guest never gets far there, and each VM is stopped 1 ms after its first KVM_RUN anyway).
//
// The benchmark notes CLOCK_MONOTONIC right before it spawns husk-vmm --profile-setup; the
// profile husk-vmm logs gives main()'s first instruction on the same clock and the first KVM_RUN
// from there, so exec and dynamic loading count too. Per phase it prints the median wall time and
// the median CPU time of the thread that ran it: where wall is far above CPU the thread waited in
// the kernel (KVM's memory slot and irqchip updates wait for SRCU grace periods, long on a loaded
// or nested host). The teardown phases (vCPU threads, devices, the VM's destruction) and the
// whole process, spawn to exit, are printed too: they are part of what a VM costs its caller.
//
// --baseline-vmm runs a second husk-vmm alternately with the first, run by run, so a change is
// measured against its base under the same load (no other peer: QEMU has no comparable marker,
// and the boot benchmark compares the whole boot). --restore DIR restores that snapshot instead
// of booting the kernel (the host-side restore time); --baseline-restore gives the baseline its
// own snapshot when the two builds' snapshot formats differ. --baseline-arg gives the baseline an
// option of its own (repeatable; without --baseline-vmm the baseline is --vmm itself), so one
// build's settings compare too (`--baseline-arg=--memory-hugepages=off`).
#include "bench/common/bench_arguments.hpp"
#include "bench/common/setup_profile_log.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using namespace husk::bench;

struct Sample {
    SetupTimes setup;
    double spawn_to_exit_ms { 0 };
};

// One husk-vmm's samples, phase by phase in the order they first appeared.
struct Series {
    std::string vmm;
    std::optional<std::string> restore;
    std::vector<std::string> arguments; // husk-vmm options of this series only
    std::vector<double> total, to_main, to_exit;
    std::vector<std::string> order;
    std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> phases;

    void add(Sample const& sample)
    {
        total.push_back(sample.setup.exec_to_first_run_ms);
        to_main.push_back(sample.setup.exec_to_main_ms);
        to_exit.push_back(sample.spawn_to_exit_ms);
        for (auto const& [name, times] : sample.setup.phases) {
            if (!phases.contains(name))
                order.push_back(name);
            phases[name].first.push_back(times.first);
            phases[name].second.push_back(times.second);
        }
    }
};

std::vector<std::string> vmm_command(VmImages const& images, std::string const& vmm,
    std::optional<std::string> const& restore, std::vector<std::string> const& arguments, std::string const& socket_path)
{
    std::vector<std::string> common { "--timeout", "1ms", "--profile-setup" };
    common.insert(common.end(), arguments.begin(), arguments.end());
    if (!restore) {
        auto booted = images;
        booted.vmm = vmm;
        common.insert(common.end(), { "--", "true" });
        return husk_command(booted, common);
    }
    // What libhusk passes for a restore (sdk/src/sandbox_snapshot.cpp), less the report.
    std::vector<std::string> argv { vmm, "--restore", *restore, "--serial", "none", "--vsock", socket_path };
    argv.insert(argv.end(), common.begin(), common.end());
    return argv;
}

std::optional<Sample> run_once(VmImages const& images, Series const& series, std::string const& log_path)
{
    std::string socket_path = log_path + ".vsock";
    int64_t spawned_ns = monotonic_ns();
    pid_t pid = spawn_process(vmm_command(images, series.vmm, series.restore, series.arguments, socket_path), log_path);
    bool exited = pid >= 0 && wait_process(pid);
    int64_t exited_ns = monotonic_ns();
    ::unlink(socket_path.c_str());
    if (!exited)
        return std::nullopt;
    auto setup = read_setup_profile(log_path, spawned_ns);
    if (!setup)
        return std::nullopt;
    return Sample { *setup, static_cast<double>(exited_ns - spawned_ns) / 1e6 };
}

void print_tables(std::vector<Series> const& series, int runs, uint64_t memory_mib)
{
    for (auto const& one : series) {
        auto all = summarize(one.total);
        std::string label = one.vmm;
        for (auto const& argument : one.arguments)
            label += " " + argument;
        std::printf("%s: exec -> first KVM_RUN, %d runs, %llu MiB guest: median %.2f ms  p99 %.2f ms\n",
            label.c_str(), runs, static_cast<unsigned long long>(memory_mib), all.median, all.p99);
    }
    std::printf("\n| phase |");
    for (size_t i = 0; i < series.size(); ++i)
        std::printf(" %s wall / CPU median ms |", i == 0 ? "husk-vmm" : "baseline");
    std::printf("\n|---|");
    for (size_t i = 0; i < series.size(); ++i)
        std::printf("---|");
    std::printf("\n| exec -> main() (exec, dynamic loading) |");
    for (auto const& one : series)
        std::printf(" %.3f / - |", summarize(one.to_main).median);
    std::printf("\n");
    std::vector<std::string> names = series.front().order;
    for (size_t i = 1; i < series.size(); ++i) {
        for (auto const& name : series[i].order) {
            if (std::find(names.begin(), names.end(), name) == names.end())
                names.push_back(name);
        }
    }
    std::vector<double> cpu_sums(series.size(), 0);
    for (auto const& name : names) {
        std::printf("| %s |", name.c_str());
        for (size_t i = 0; i < series.size(); ++i) {
            auto found = series[i].phases.find(name);
            if (found == series[i].phases.end()) {
                std::printf(" - |");
                continue;
            }
            auto wall = summarize(found->second.first).median, cpu = summarize(found->second.second).median;
            cpu_sums[i] += name.starts_with("teardown") ? 0 : cpu;
            std::printf(" %.3f / %.3f |", wall, cpu);
        }
        std::printf("\n");
    }
    std::printf("| **exec -> first KVM_RUN** |");
    for (auto const& one : series)
        std::printf(" **%.2f** (p99 %.2f) |", summarize(one.total).median, summarize(one.total).p99);
    std::printf("\n| spawn -> exit (setup, 1 ms of running, teardown) |");
    for (auto const& one : series)
        std::printf(" %.2f |", summarize(one.to_exit).median);
    std::printf("\n| sum of the setup phases' CPU medians |");
    for (double sum : cpu_sums)
        std::printf(" %.2f |", sum);
    std::printf("\n");
    if (series.size() == 2)
        std::printf("ratio husk-vmm/baseline, exec -> first KVM_RUN median: %.2f\n",
            summarize(series[0].total).median / summarize(series[1].total).median);
}

} // namespace

int main(int argc, char** argv)
{
    VmImages images;
    int runs = 30;
    std::string baseline;
    std::string restore;
    std::string baseline_restore;
    std::vector<std::string> baseline_arguments;
    CLI::App app { "husk-vmm host-side setup (exec -> first KVM_RUN), per phase", "husk_bench_setup" };
    add_image_options(app, images);
    app.add_option("--runs", runs, "VMs to set up (per husk-vmm)")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    app.add_option("--baseline-vmm", baseline, "Another husk-vmm, run alternately with --vmm (A/B)");
    app.add_option("--restore", restore, "Restore this snapshot directory instead of booting the kernel");
    app.add_option("--baseline-restore", baseline_restore, "The baseline's snapshot directory (default: --restore)");
    app.add_option("--baseline-arg", baseline_arguments,
        "An option for the baseline husk-vmm (repeatable; with no --baseline-vmm: --vmm with these options)")
        ->allow_extra_args(false);
    if (auto status = parse_bench_arguments(app, argc, argv))
        return *status;
    // The guest never needs to boot here: a PVM /dev/kvm is good enough.
    ::setenv("HUSK_ALLOW_PVM", "1", 1);

    auto directory = [](std::string const& path) { return path.empty() ? std::nullopt : std::optional(path); };
    std::vector<Series> series { Series { images.vmm, directory(restore), {}, {}, {}, {}, {}, {} } };
    if (!baseline.empty() || !baseline_arguments.empty())
        series.push_back(Series { baseline.empty() ? images.vmm : baseline,
            directory(baseline_restore.empty() ? restore : baseline_restore), baseline_arguments, {}, {}, {}, {}, {} });
    std::string log_path = "/tmp/husk-bench-setup-" + std::to_string(::getpid()) + ".log";
    for (int run = 0; run < runs; ++run) {
        // Alternate the two run by run (and which goes first), so drift in the load hits both.
        for (size_t k = 0; k < series.size(); ++k) {
            auto& one = series[(k + static_cast<size_t>(run)) % series.size()];
            auto sample = run_once(images, one, log_path);
            if (!sample) {
                std::fprintf(stderr, "bench/setup: %s gave no setup profile (see %s)\n", one.vmm.c_str(),
                    log_path.c_str());
                return 1;
            }
            one.add(*sample);
        }
    }
    ::unlink(log_path.c_str());
    print_tables(series, runs, images.memory_mib);
    return 0;
}
