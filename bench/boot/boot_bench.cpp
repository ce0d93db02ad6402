// bench/boot: boot-to-init of husk-vmm against QEMU microvm with the same kernel and initramfs,
// run alternately in one invocation; husk-vmm's host-side setup time (exec -> first KVM_RUN, from
// the boot runs' --profile-setup line); VMM memory overhead.
//
// Boot-to-init is measured the same way for both VMMs: from spawning the process to its exit,
// where each exits when husk-init writes its boot marker (husk-vmm --exit-at-boot-marker; QEMU
// with an isa-debug-exit device on the husk status port). Memory overhead is the VMM's
// resident set minus the guest-RAM mapping, sampled while the guest idles in a `sleep`.
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
};

std::optional<double> time_to_exit_ms(std::vector<std::string> argv, std::string const& output = "/dev/null")
{
    auto start = Clock::now();
    pid_t pid = spawn_process(std::move(argv), output);
    if (pid < 0 || !wait_process(pid))
        return std::nullopt;
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Resident kilobytes of a process outside its guest RAM. Guest RAM is a mapping at least as
// large as the guest (QEMU's, with its alignment slack), or a run of adjacent mappings that spans
// exactly the guest's size: husk-vmm maps the kernel's and initrd's file pages into the middle
// of its anonymous guest RAM, which splits it into several mappings.
std::optional<uint64_t> rss_excluding_guest_kib(pid_t pid, uint64_t guest_bytes)
{
    auto smaps = husk::read_file("/proc/" + std::to_string(pid) + "/smaps", 64 << 20);
    if (!smaps)
        return std::nullopt;
    struct Mapping {
        uint64_t low { 0 }, high { 0 }, rss_kib { 0 };
        bool guest { false };
    };
    std::vector<Mapping> mappings;
    std::istringstream lines(*smaps);
    std::string line;
    while (std::getline(lines, line)) {
        unsigned long long low = 0, high = 0, kib = 0;
        // Mapping headers read "start-end perms ..."; field lines read "Name: value".
        if (std::sscanf(line.c_str(), "%llx-%llx ", &low, &high) == 2)
            mappings.push_back({ low, high, 0, high - low >= guest_bytes });
        else if (!mappings.empty() && std::sscanf(line.c_str(), "Rss: %llu kB", &kib) == 1)
            mappings.back().rss_kib = kib;
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
    uint64_t total = 0;
    for (auto const& mapping : mappings)
        total += mapping.guest ? 0 : mapping.rss_kib;
    return total;
}

std::optional<uint64_t> idle_rss_kib(std::vector<std::string> argv, uint64_t guest_bytes)
{
    pid_t pid = spawn_process(std::move(argv), "/dev/null");
    if (pid < 0)
        return std::nullopt;
    // Under the lab's TCG the guest reaches init in a few seconds; sample once it idles.
    std::this_thread::sleep_for(std::chrono::seconds(15));
    auto rss = rss_excluding_guest_kib(pid, guest_bytes);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return rss;
}

} // namespace

int main(int argc, char** argv)
{
    Options options;
    CLI::App app { "Boot-to-init of husk-vmm against QEMU microvm, host-side setup, VMM memory", "husk_bench_boot" };
    add_image_options(app, options.images);
    app.add_option("--runs", options.runs, "Boots of each VMM")->check(CLI::Range(1, 100000))->capture_default_str();
    if (auto status = parse_bench_arguments(app, argc, argv))
        return *status;

    std::vector<double> husk_boot, qemu_boot, husk_setup;
    std::string husk_log = "/tmp/husk-bench-boot-" + std::to_string(::getpid()) + ".log";
    for (int run = 0; run < options.runs; ++run) {
        // Alternate the two so drift in the machine affects both alike.
        auto spawned_ns = monotonic_ns();
        if (auto ms = time_to_exit_ms(
                husk_command(options.images, { "--exit-at-boot-marker", "--profile-setup", "--", "true" }), husk_log)) {
            husk_boot.push_back(*ms);
            if (auto setup = read_setup_profile(husk_log, spawned_ns))
                husk_setup.push_back(setup->exec_to_first_run_ms);
        }
        if (auto ms = time_to_exit_ms(qemu_command(options.images, { .exit_at_boot_marker = true, .vsock_cid = std::nullopt }, { "true" })))
            qemu_boot.push_back(*ms);
        std::fprintf(stderr, "\rrun %d/%d", run + 1, options.runs);
    }
    ::unlink(husk_log.c_str());
    std::fprintf(stderr, "\n");
    if (husk_boot.empty() || qemu_boot.empty() || husk_setup.empty()) {
        std::fprintf(stderr, "bench/boot: a VMM failed to start\n");
        return 1;
    }
    auto husk = summarize(husk_boot), qemu = summarize(qemu_boot), setup = summarize(husk_setup);
    uint64_t guest_bytes = options.images.memory_mib << 20;
    auto husk_rss = idle_rss_kib(husk_command(options.images, { "--", "sleep", "60" }), guest_bytes);
    auto qemu_rss = idle_rss_kib(qemu_command(options.images, {}, { "sleep", "60" }), guest_bytes);

    std::printf("boot-to-init (exec -> init's boot marker), %d runs, %llu MiB guest\n", options.runs,
        static_cast<unsigned long long>(options.images.memory_mib));
    std::printf("  %-22s median %8.1f ms   p99 %8.1f ms\n", "husk-vmm", husk.median, husk.p99);
    std::printf("  %-22s median %8.1f ms   p99 %8.1f ms\n", "qemu -M microvm", qemu.median, qemu.p99);
    std::printf("  ratio husk/qemu        median %8.2f       p99 %8.2f\n", husk.median / qemu.median, husk.p99 / qemu.p99);
    std::printf("husk-vmm host-side setup (exec -> first KVM_RUN): median %.1f ms  p99 %.1f ms\n", setup.median, setup.p99);
    std::printf("VMM resident memory excluding guest RAM (guest idle at init):\n");
    auto mib = [](std::optional<uint64_t> kib) { return kib && *kib > 0 ? std::to_string(*kib / 1024.0).substr(0, 5) + " MiB" : std::string("not measured"); };
    std::printf("  husk-vmm %s   qemu %s\n", mib(husk_rss).c_str(), mib(qemu_rss).c_str());
    return 0;
}
