// husk doctor's checks.
#include "sdk/cli/doctor.hpp"

#include "runtime/base/fd.hpp"
#include "sdk/src/assets.hpp"
#include "sdk/src/jail_decision.hpp"

#include <cstdio>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace husk::cli {

namespace {

    bool exists(std::string const& path)
    {
        struct stat info { };
        return stat(path.c_str(), &info) == 0;
    }

    Finding check_dev_kvm()
    {
        int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
            close(fd);
            return { Verdict::Ok, "/dev/kvm", "readable and writable" };
        }
        if (errno == ENOENT)
            return { Verdict::Fail, "/dev/kvm",
                "missing: load kvm_intel or kvm_amd (modprobe), or enable virtualization in the firmware" };
        if (errno == EACCES)
            return { Verdict::Fail, "/dev/kvm",
                "permission denied: add this user to the kvm group (usermod -aG kvm $USER) and log in again" };
        return { Verdict::Fail, "/dev/kvm", Error::from_errno("cannot open /dev/kvm").message };
    }

    Finding check_assets()
    {
        auto assets = detail::resolve_assets({});
        if (!assets)
            return { Verdict::Fail, "assets", assets.error().message };
        return { Verdict::Ok, "assets",
            "husk-vmm " + assets->vmm + ", kernel " + assets->kernel + ", initramfs " + assets->initrd };
    }

    Finding check_io_uring()
    {
        io_uring_params params {};
        long fd = syscall(__NR_io_uring_setup, 1, &params);
        if (fd >= 0) {
            close(static_cast<int>(fd));
            return { Verdict::Ok, "io_uring", "available" };
        }
        if (errno == ENOSYS)
            return { Verdict::Fail, "io_uring", "not in this kernel (needs CONFIG_IO_URING, Linux 5.10 or later)" };
        if (errno == EPERM)
            return { Verdict::Fail, "io_uring",
                "disabled: set sysctl kernel.io_uring_disabled=0 (or allow this user's group)" };
        return { Verdict::Fail, "io_uring",
            Error::from_errno("io_uring_setup").message + " (a container's seccomp profile may block it)" };
    }

    Finding check_seccomp()
    {
        if (prctl(PR_GET_SECCOMP) < 0)
            return { Verdict::Fail, "seccomp", "not available: the kernel needs CONFIG_SECCOMP_FILTER" };
        auto actions = read_file("/proc/sys/kernel/seccomp/actions_avail", 4096);
        if (actions && actions->find("kill_process") == std::string::npos)
            return { Verdict::Warn, "seccomp",
                "no kill_process action: the VMM's filter falls back to killing one thread" };
        return { Verdict::Ok, "seccomp", "filters available" };
    }

    Finding check_cgroups()
    {
        auto controllers = read_file("/sys/fs/cgroup/cgroup.controllers", 4096);
        if (!controllers) {
            // A v1/v2 hybrid: the jail uses the v1 memory, pids and cpu hierarchies.
            if (exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
                return { Verdict::Ok, "cgroups", "cgroup v1 (memory, pids, cpu hierarchies)" };
            return { Verdict::Warn, "cgroups",
                "no cgroup v2 or v1 memory hierarchy at /sys/fs/cgroup: the jail (which puts each VM in a "
                "cgroup) cannot start VMs; mount cgroups or use husk run --no-jail" };
        }
        std::string list = *controllers;
        while (!list.empty() && list.back() == '\n')
            list.pop_back();
        if (access("/sys/fs/cgroup", W_OK) != 0)
            return { Verdict::Warn, "cgroups",
                "cgroup v2 (" + list
                    + ") but not writable here: delegate a subtree (systemd Delegate=yes) for limits" };
        return { Verdict::Ok, "cgroups", "cgroup v2, controllers: " + list };
    }

} // namespace

Finding jail_finding(uid_t effective_uid)
{
    auto decision = detail::decide_jail(JailMode::Auto, effective_uid);
    if (!decision)
        return { Verdict::Fail, "jail", decision.error().message };
    if (!decision->jailed)
        return { Verdict::Warn, "jail",
            "VMs will run unjailed: " + decision->reason + ". Run as root for the jail (own uid, namespaces, cgroup)" };
    return { Verdict::Ok, "jail",
        "VMs will be jailed (" + decision->reason + "): own uid/gid, namespaces, cgroup, empty root; "
            + "husk run --no-jail turns it off for debugging" };
}

KvmFlavour kvm_flavour(std::string const& sys_module_dir)
{
    if (exists(sys_module_dir + "/kvm_intel") || exists(sys_module_dir + "/kvm_amd"))
        return KvmFlavour::Hardware;
    if (exists(sys_module_dir + "/kvm_pvm"))
        return KvmFlavour::Pvm;
    return KvmFlavour::None;
}

Finding kvm_flavour_finding(KvmFlavour flavour, std::string const& module_name)
{
    switch (flavour) {
    case KvmFlavour::Hardware:
        return { Verdict::Ok, "kvm", "hardware virtualization (" + module_name + ")" };
    case KvmFlavour::Pvm:
        return { Verdict::Fail, "kvm",
            "this /dev/kvm is PVM (kvm_pvm), which cannot boot an unmodified Linux guest: run husk in the lab "
            "(tests/lab/run -- husk run ...) or on a host with VT-x/AMD-V" };
    case KvmFlavour::None:
        return { Verdict::Fail, "kvm", "no KVM module loaded: modprobe kvm_intel or kvm_amd (needs VT-x/AMD-V)" };
    }
    return { Verdict::Fail, "kvm", "unknown" };
}

std::vector<Finding> run_doctor_checks()
{
    auto flavour = kvm_flavour();
    std::string module = exists("/sys/module/kvm_intel") ? "kvm_intel" : "kvm_amd";
    return { kvm_flavour_finding(flavour, module), check_dev_kvm(), check_assets(), check_io_uring(), check_seccomp(),
        check_cgroups(), jail_finding(geteuid()) };
}

int doctor_command()
{
    bool failed = false;
    for (auto const& finding : run_doctor_checks()) {
        char const* mark = finding.verdict == Verdict::Ok ? "ok  " : finding.verdict == Verdict::Warn ? "warn" : "FAIL";
        std::printf("%s  %-9s %s\n", mark, finding.check.c_str(), finding.detail.c_str());
        failed = failed || finding.verdict == Verdict::Fail;
    }
    std::printf(failed ? "husk cannot run VMs here yet: fix the FAIL lines above.\n" : "husk can run VMs here.\n");
    return failed ? 1 : 0;
}

} // namespace husk::cli
