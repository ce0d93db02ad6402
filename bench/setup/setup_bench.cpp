// bench/setup: husk-vmm's host-side setup, exec to the first KVM_RUN, phase by phase. Needs no
// guest execution, so it runs natively on any /dev/kvm that can create a VM (PVM included: the
// guest never gets far there, and each VM is stopped 1 ms after its first KVM_RUN anyway).
//
// The benchmark notes CLOCK_MONOTONIC right before it spawns husk-vmm --profile-setup; the
// profile husk-vmm logs gives main()'s first instruction on the same clock and the first KVM_RUN
// from there, so exec and dynamic loading count too. Per phase it prints the median wall time and
// the median CPU time of the thread that ran it: where wall is far above CPU the thread waited in
// the kernel (KVM's memory slot and irqchip updates wait for SRCU grace periods, long on a loaded
// or nested host). No peer: QEMU has no comparable marker, and the boot benchmark compares the
// whole boot.
#include "bench/common/bench_arguments.hpp"
#include "bench/common/setup_profile_log.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using namespace husk::bench;

std::optional<SetupTimes> run_once(VmImages const& images, std::string const& log_path)
{
    int64_t spawned_ns = monotonic_ns();
    pid_t pid = spawn_process(husk_command(images, { "--timeout", "1ms", "--profile-setup", "--", "true" }), log_path);
    if (pid < 0 || !wait_process(pid))
        return std::nullopt;
    return read_setup_profile(log_path, spawned_ns);
}

} // namespace

int main(int argc, char** argv)
{
    VmImages images;
    int runs = 30;
    CLI::App app { "husk-vmm host-side setup (exec -> first KVM_RUN), per phase", "husk_bench_setup" };
    add_image_options(app, images);
    app.add_option("--runs", runs, "VMs to set up")->check(CLI::Range(1, 100000))->capture_default_str();
    if (auto status = parse_bench_arguments(app, argc, argv))
        return *status;
    // The guest never needs to boot here: a PVM /dev/kvm is good enough.
    ::setenv("HUSK_ALLOW_PVM", "1", 1);

    std::string log_path = "/tmp/husk-bench-setup-" + std::to_string(::getpid()) + ".log";
    std::vector<double> total, to_main;
    std::vector<std::string> order;
    std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> phases;
    for (int run = 0; run < runs; ++run) {
        auto sample = run_once(images, log_path);
        if (!sample) {
            std::fprintf(stderr, "bench/setup: husk-vmm gave no setup profile (see %s)\n", log_path.c_str());
            return 1;
        }
        total.push_back(sample->exec_to_first_run_ms);
        to_main.push_back(sample->exec_to_main_ms);
        for (auto const& [name, times] : sample->phases) {
            if (!phases.contains(name))
                order.push_back(name);
            phases[name].first.push_back(times.first);
            phases[name].second.push_back(times.second);
        }
    }
    ::unlink(log_path.c_str());

    auto all = summarize(total);
    std::printf("husk-vmm setup, exec -> first KVM_RUN, %d runs, %llu MiB guest: median %.2f ms  p99 %.2f ms\n", runs,
        static_cast<unsigned long long>(images.memory_mib), all.median, all.p99);
    std::printf("| phase | wall median ms | CPU median ms |\n|---|---|---|\n");
    std::printf("| exec -> main() (exec, dynamic loading) | %.3f | |\n", summarize(to_main).median);
    double cpu_sum = 0;
    for (auto const& name : order) {
        auto wall = summarize(phases[name].first).median, cpu = summarize(phases[name].second).median;
        cpu_sum += cpu;
        std::printf("| %s | %.3f | %.3f |\n", name.c_str(), wall, cpu);
    }
    std::printf("sum of the phases' CPU medians: %.2f ms\n", cpu_sum);
    return 0;
}
