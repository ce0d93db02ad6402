// bench/spawn: spawn-to-result through libhusk — Sandbox::create (husk-vmm cold boot, agent
// handshake) plus run({"true"}) until its result — and, in the same invocation, QEMU microvm
// boot-to-init with the same kernel and initramfs (it exits at husk-init's boot marker). The
// peer does less work (no agent round trip, no teardown), so the ratio is conservative.
// Prints medians and p99 and the ratio husk / QEMU of the medians.
#include "bench/common/bench_arguments.hpp"
#include "bench/common/peer_vm.hpp"
#include "bench/common/sandbox_steps.hpp"
#include "bench/common/timed_rounds.hpp"
#include "husk/husk.hpp"

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <unistd.h>

using namespace husk::bench;

int main(int argc, char** argv)
{
    VmImages images;
    int runs = 20;
    bool no_jail = false; // the SDK's default: jailed when root, as in the lab
    bool trace = false;
    bool writable_share = false;
    CLI::App app { "Spawn-to-result through libhusk against QEMU microvm boot-to-init", "husk_bench_spawn" };
    add_image_options(app, images);
    app.add_option("--runs", runs, "Sandboxes (and QEMU boots)")->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_flag("--no-jail", no_jail, "Run husk-vmm unjailed (seccomp only)");
    app.add_flag("--trace", trace, "Print where each sandbox's time went (libhusk's step trace)");
    app.add_flag("--writable-share", writable_share,
        "Give each sandbox a writable share (an empty directory): its guest then powers itself off at shutdown");
    if (auto status = parse_bench_arguments(app, argc, argv))
        return *status;

    husk::SandboxOptions options;
    options.vmm_path = images.vmm;
    options.kernel_path = images.kernel;
    options.initrd_path = images.initrd;
    options.memory_bytes = images.memory_mib << 20;
    options.boot_timeout = std::chrono::minutes(2);
    if (no_jail)
        options.jail = husk::JailMode::Off;
    std::optional<std::filesystem::path> share;
    if (writable_share) {
        share = std::filesystem::temp_directory_path() / ("husk-bench-spawn-" + std::to_string(::getpid()));
        std::filesystem::create_directories(*share);
        // Jailed, husk-vmm serves shares as the sandbox's own uid.
        std::filesystem::permissions(*share, std::filesystem::perms::all);
        options.mounts.push_back({ share->string(), "/mnt/share", false });
    }

    husk::detail::enable_step_trace(trace);
    SpawnRecord spawns;
    TimedStep const steps[] = {
        { "husk create + run true", [&] { return time_create_and_run_true(options, &spawns); } },
        { "qemu boot to init", [&] { return time_qemu_boot_to_init(images); } },
    };
    auto samples = run_rounds(runs, steps);
    if (share)
        std::filesystem::remove_all(*share);
    if (!samples) {
        std::fprintf(stderr, "%s\n", samples.error().message.c_str());
        return 1;
    }

    auto husk = summarize((*samples)[0]);
    auto teardown = summarize(spawns.teardown_ms);
    auto qemu = summarize((*samples)[1]);
    bool jailed = spawns.jailed;
    std::printf("spawn-to-result for `true`, %d runs, %llu MiB guest, husk-vmm %s%s\n", runs,
        static_cast<unsigned long long>(images.memory_mib), jailed ? "jailed" : "not jailed (seccomp only)",
        writable_share ? ", a writable share" : "");
    std::printf("  husk (create + run)     median %9.1f ms  p99 %9.1f ms\n", husk.median, husk.p99);
    std::printf("  husk teardown           median %9.1f ms  p99 %9.1f ms\n", teardown.median, teardown.p99);
    std::printf("  qemu microvm to init    median %9.1f ms  p99 %9.1f ms\n", qemu.median, qemu.p99);
    std::printf("  ratio husk/qemu (medians) %.2f\n", qemu.median > 0 ? husk.median / qemu.median : 0.0);
    if (!spawns.steps.empty())
        spawns.steps.print("husk create + run true + shutdown");
    return 0;
}
