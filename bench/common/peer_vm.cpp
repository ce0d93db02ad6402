// Process spawning, VMM command lines and summaries for the benchmarks.
#include "bench/common/peer_vm.hpp"

#include "runtime/base/fd.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace husk::bench {

pid_t spawn_process(std::vector<std::string> argv, std::string const& output)
{
    std::vector<char*> pointers;
    for (auto& argument : argv)
        pointers.push_back(argument.data());
    pointers.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = -1;
    int error = posix_spawnp(&pid, pointers[0], &actions, nullptr, pointers.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    return error == 0 ? pid : -1;
}

std::optional<int> wait_process(pid_t pid)
{
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid)
        return std::nullopt;
    return status;
}

std::optional<int> wait_process_for(pid_t pid, std::chrono::milliseconds limit)
{
    // A pidfd becomes readable when the process exits: the wait ends then, not at a polling step.
    Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd.is_valid())
        return wait_process(pid);
    auto deadline = std::chrono::steady_clock::now() + limit;
    pollfd watched { pidfd.get(), POLLIN, 0 };
    int ready;
    do {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        ready = ::poll(&watched, 1, static_cast<int>(std::clamp<int64_t>(left.count(), 0, INT_MAX)));
    } while (ready < 0 && errno == EINTR);
    if (ready > 0)
        return wait_process(pid);
    ::kill(pid, SIGKILL);
    (void)wait_process(pid);
    return std::nullopt;
}

std::vector<std::string> husk_command(VmImages const& images, std::vector<std::string> extra)
{
    std::vector<std::string> argv { images.vmm, "--kernel", images.kernel, "--initrd", images.initrd, "--memory",
        std::to_string(images.memory_mib) + "M" };
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

std::vector<std::string> qemu_command(
    VmImages const& images, QemuDevices const& devices, std::vector<std::string> const& init_arguments)
{
    // husk-vmm's own defaults with the serial port off (runtime/main/kernel_cmdline.cpp). With
    // acpi=off QEMU microvm announces its virtio-mmio transports by appending virtio_mmio.device=
    // arguments (our guest kernel has no ACPI); it appends them after ` -- `, so with init
    // arguments they reach the job instead and the guest sees no virtio device.
    std::string cmdline = "reboot=k panic=-1 pci=off i8042.noaux i8042.nomux i8042.dumbkbd i8042.nokbd "
                          "pty.legacy_count=0 tsc=reliable "
                          "8250.nr_uarts=0 quiet";
    if (!init_arguments.empty()) {
        cmdline += " --";
        // Quoted as husk-vmm quotes them, so an argument with spaces (`sh -c "..."`) stays one.
        for (auto const& argument : init_arguments)
            cmdline += " \"" + argument + "\"";
    }
    std::vector<std::string> argv { images.qemu, "-M", "microvm,x-option-roms=off,rtc=off,isa-serial=off,acpi=off", "-accel",
        "kvm", "-cpu", "host", "-m", std::to_string(images.memory_mib), "-smp", "1", "-nodefaults", "-no-user-config",
        "-display", "none", "-no-reboot", "-kernel", images.kernel, "-initrd", images.initrd, "-append", cmdline,
        "-device", "virtio-rng-device" };
    if (devices.exit_at_boot_marker)
        argv.insert(argv.end(), { "-device", "isa-debug-exit,iobase=0xf10,iosize=0x1" });
    if (devices.vsock_cid)
        argv.insert(argv.end(), { "-device", "vhost-vsock-device,guest-cid=" + std::to_string(*devices.vsock_cid) });
    return argv;
}

Summary summarize(std::vector<double> samples)
{
    if (samples.empty())
        return {};
    std::sort(samples.begin(), samples.end());
    auto at = [&](double quantile) {
        return samples[std::min(samples.size() - 1, static_cast<size_t>(quantile * (samples.size() - 1) + 0.5))];
    };
    return { at(0.5), at(0.99) };
}

} // namespace husk::bench
