// What every benchmark shares: spawning a VMM process, the command lines of the two VMMs compared
// (husk-vmm and the peer, QEMU microvm, with the same kernel, initramfs, memory and device set),
// and the median/p99 summary the benchmarks print.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace husk::bench {

struct VmImages {
    std::string vmm; // husk-vmm
    std::string qemu { "qemu-system-x86_64" };
    std::string kernel; // uncompressed vmlinux
    std::string initrd;
    uint64_t memory_mib { 128 };
};

// Starts argv[0] (PATH lookup) with stdin from /dev/null and stdout+stderr to `output`. -1 on
// failure.
pid_t spawn_process(std::vector<std::string> argv, std::string const& output);
// Waits for `pid`; its wait status, or nullopt when waitpid fails.
std::optional<int> wait_process(pid_t pid);
// A VM that never reaches its end (a guest hung in the lab, once seen spinning with interrupts
// off) must fail the benchmark loudly, not stall it: how long a boot or a job may take. Under a
// heavily loaded lab single boots took up to about a minute.
inline constexpr std::chrono::minutes vm_step_limit { 5 };
// wait_process, but after `limit` the process is killed (SIGKILL, then reaped) and the result
// is nullopt, as for a failed wait.
std::optional<int> wait_process_for(pid_t pid, std::chrono::milliseconds limit);

std::vector<std::string> husk_command(VmImages const& images, std::vector<std::string> extra);

struct QemuDevices {
    bool exit_at_boot_marker { false }; // isa-debug-exit on the husk status port ends QEMU
    std::optional<uint32_t> vsock_cid; // vhost-vsock-device with this guest CID
};
// QEMU microvm with the kernel command line husk-vmm builds (serial off) and virtio-rng, which
// every husk VM has; `init_arguments` go after ` -- `.
std::vector<std::string> qemu_command(
    VmImages const& images, QemuDevices const& devices, std::vector<std::string> const& init_arguments);

struct Summary {
    double median { 0 };
    double p99 { 0 };
};
// Nearest-rank median and p99; zeros for no samples.
Summary summarize(std::vector<double> samples);

} // namespace husk::bench
