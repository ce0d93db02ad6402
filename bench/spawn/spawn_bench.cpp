// bench/spawn: spawn-to-result through libhusk — Sandbox::create (husk-vmm cold boot, agent
// handshake) plus run({"true"}) until its result — and, in the same invocation, QEMU microvm
// boot-to-init with the same kernel and initramfs (it exits at husk-init's boot marker). The
// peer does less work (no agent round trip, no teardown), so the ratio is conservative.
// Prints medians and p99 and the ratio husk / QEMU of the medians.
#include "bench/common/bench_arguments.hpp"
#include "bench/common/peer_vm.hpp"
#include "husk/husk.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;
using namespace husk::bench;

double millis_since(Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

} // namespace

int main(int argc, char** argv)
{
    VmImages images;
    int runs = 20;
    bool no_jail = false; // the SDK's default: jailed when root, as in the lab
    CLI::App app { "Spawn-to-result through libhusk against QEMU microvm boot-to-init", "husk_bench_spawn" };
    add_image_options(app, images);
    app.add_option("--runs", runs, "Sandboxes (and QEMU boots)")->check(CLI::Range(1, 100000))->capture_default_str();
    app.add_flag("--no-jail", no_jail, "Run husk-vmm unjailed (seccomp only)");
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

    std::vector<double> husk_ms, teardown_ms, qemu_ms;
    bool jailed = false;
    for (int run = 0; run < runs; ++run) {
        auto start = Clock::now();
        auto sandbox = husk::Sandbox::create(options);
        if (!sandbox) {
            std::fprintf(stderr, "husk: %s\n", sandbox.error().message.c_str());
            return 1;
        }
        jailed = sandbox->jailed();
        auto result = sandbox->run({ "true" });
        if (!result || !result->ok()) {
            std::fprintf(stderr, "husk: run true failed\n");
            return 1;
        }
        husk_ms.push_back(millis_since(start));
        auto stopping = Clock::now();
        (void)sandbox->shutdown();
        teardown_ms.push_back(millis_since(stopping));

        start = Clock::now();
        pid_t pid = spawn_process(
            qemu_command(images, { .exit_at_boot_marker = true, .vsock_cid = std::nullopt }, { "true" }), "/dev/null");
        if (pid < 0 || !wait_process(pid)) {
            std::fprintf(stderr, "qemu: failed to run\n");
            return 1;
        }
        qemu_ms.push_back(millis_since(start));
    }

    auto husk = summarize(husk_ms);
    auto teardown = summarize(teardown_ms);
    auto qemu = summarize(qemu_ms);
    std::printf("spawn-to-result for `true`, %d runs, %llu MiB guest, husk-vmm %s\n", runs,
        static_cast<unsigned long long>(images.memory_mib), jailed ? "jailed" : "not jailed (seccomp only)");
    std::printf("  husk (create + run)     median %9.1f ms  p99 %9.1f ms\n", husk.median, husk.p99);
    std::printf("  husk teardown           median %9.1f ms  p99 %9.1f ms\n", teardown.median, teardown.p99);
    std::printf("  qemu microvm to init    median %9.1f ms  p99 %9.1f ms\n", qemu.median, qemu.p99);
    std::printf("  ratio husk/qemu (medians) %.2f\n", qemu.median > 0 ? husk.median / qemu.median : 0.0);
    return 0;
}
