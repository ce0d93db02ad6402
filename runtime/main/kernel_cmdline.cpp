// Kernel command line construction and job-argument quoting.
#include "runtime/main/vmm_options.hpp"

#include <string_view>
#include <unistd.h>

namespace husk {

namespace {
    // Fast, quiet boot for a micro-VM: reboot through the keyboard controller (husk's i8042 turns
    // that into a VM stop; the kernel's reboot code drives the controller itself, so the keyboard
    // driver need not probe a keyboard that is not there: i8042.nokbd), reboot at once on panic,
    // no PCI, no i8042 probing beyond what husk emulates, trust the TSC (KVM's is stable), and no
    // legacy BSD ptys (the guest kernel has LEGACY_PTYS, whose 256 pairs of device nodes were the
    // most expensive initcall of a lab boot profile; husk-init uses /dev/pts). `nomodule` is left
    // out on purpose: husk's guest kernel has CONFIG_MODULES=n, and there an unknown flag without
    // '=' or '.' is handed to init as an extra argv entry before the job's own arguments.
    constexpr std::string_view default_arguments = "reboot=k panic=-1 pci=off i8042.noaux i8042.nomux i8042.dumbkbd "
                                                   "i8042.nokbd pty.legacy_count=0 tsc=reliable";
    constexpr std::string_view serial_on_arguments = "console=ttyS0 8250.nr_uarts=1";
    constexpr std::string_view serial_off_arguments = "8250.nr_uarts=0";
    constexpr std::string_view quiet_argument = "quiet";
    constexpr std::string_view init_arguments_separator = "--";

    bool has_standalone_separator(std::string_view text)
    {
        size_t position = 0;
        while (position < text.size()) {
            while (position < text.size() && text[position] == ' ')
                ++position;
            size_t end = text.find(' ', position);
            if (end == std::string_view::npos)
                end = text.size();
            if (text.substr(position, end - position) == init_arguments_separator)
                return true;
            position = end;
        }
        return false;
    }

    Result<void> check_job_argument(std::string const& argument, size_t index)
    {
        std::string where = "job argument " + std::to_string(index);
        if (argument.find('"') != std::string::npos)
            return fail(where + " contains a double quote, which the Linux command line cannot carry");
        if (argument.find('\0') != std::string::npos)
            return fail(where + " contains a NUL byte, which the Linux command line cannot carry");
        if (argument.find('\n') != std::string::npos)
            return fail(where + " contains a newline, which the Linux command line cannot carry");
        // The kernel stops handing arguments to init at a second "--" (kernel/params.c parse_args),
        // quoted or not, so everything from there on would be lost.
        if (argument == init_arguments_separator)
            return fail(where + " is \"--\", which the Linux command line cannot pass to init");
        return {};
    }
} // namespace

Result<std::string> build_kernel_cmdline(VmmOptions const& options, std::string_view guest_network)
{
    if (options.extra_cmdline.find('\n') != std::string::npos || options.extra_cmdline.find('\0') != std::string::npos)
        return fail("--cmdline contains a newline or NUL byte");
    if (has_standalone_separator(options.extra_cmdline))
        return fail("--cmdline contains \"--\": put the job's arguments after husk-vmm's own --");
    if (options.job_argv.size() > max_job_arguments)
        return fail("the job has " + std::to_string(options.job_argv.size()) + " arguments; Linux passes at most "
            + std::to_string(max_job_arguments) + " to init");

    std::string cmdline(default_arguments);
    if (options.serial.kind != SerialOutput::Kind::None) {
        cmdline += ' ';
        cmdline += serial_on_arguments;
        if (!options.debug) {
            cmdline += ' ';
            cmdline += quiet_argument;
        }
    } else {
        cmdline += ' ';
        cmdline += serial_off_arguments;
        cmdline += ' ';
        cmdline += quiet_argument;
    }
    if (options.rootfs) {
        cmdline += ' ';
        cmdline += options.rootfs->kernel_argument();
    }
    if (!guest_network.empty()) {
        cmdline += ' ';
        cmdline += guest_network;
    }
    if (!options.extra_cmdline.empty()) {
        cmdline += ' ';
        cmdline += options.extra_cmdline;
    }
    if (!options.job_argv.empty()) {
        cmdline += ' ';
        cmdline += init_arguments_separator;
        for (size_t i = 0; i < options.job_argv.size(); ++i) {
            TRY(check_job_argument(options.job_argv[i], i));
            // Quoting keeps spaces inside one argument; the kernel strips the quotes again.
            cmdline += " \"";
            cmdline += options.job_argv[i];
            cmdline += '"';
        }
    }
    if (cmdline.size() > kernel_cmdline_max_length)
        return fail("the kernel command line would be " + std::to_string(cmdline.size())
            + " bytes; Linux keeps at most " + std::to_string(kernel_cmdline_max_length));
    return cmdline;
}

MachineConfig machine_config_from(VmmOptions const& options, std::string cmdline)
{
    MachineConfig config;
    config.kernel_path = options.kernel_path;
    config.initrd_path = options.initrd_path;
    config.cmdline = std::move(cmdline);
    config.memory_bytes = options.memory_bytes;
    config.memory_huge_pages = options.memory_huge_pages;
    config.vcpus = options.vcpus;
    config.serial = options.serial;
    if (options.vsock_path)
        config.vsock = VsockConfig { *options.vsock_path, options.vsock_cid, std::nullopt, options.vsock_hold_until_agent };
    for (auto const& disk : options.disks)
        config.disks.push_back(DiskConfig { disk.path, disk.read_only });
    config.net = options.net_stream ? options.net_stream : options.net_tap;
    // The shares are served as whoever husk-vmm ends up running as: the jail's ids when jailed.
    uint32_t share_uid = options.jail_uid.value_or(::geteuid());
    uint32_t share_gid = options.jail_gid.value_or(::getegid());
    for (auto const& share : options.shares)
        config.shares.push_back(
            ShareConfig { share.host_path, share.tag, share.read_only, share_uid, share_gid, share.ownership, {} });
    config.timeout = options.timeout;
    config.debug = options.debug;
    config.stop_at_boot_marker = options.exit_at_boot_marker;
    config.seccomp = options.no_seccomp ? SeccompMode::Off : SeccompMode::AllThreads;
    config.control_path = options.control_path;
    return config;
}

} // namespace husk
