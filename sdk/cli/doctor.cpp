// husk doctor's checks.
#include "sdk/cli/doctor.hpp"

#include "husk/version.hpp"
#include "runtime/base/fd.hpp"
#include "sdk/src/jail_decision.hpp"
#include "sdk/src/passt_network.hpp"

#include <algorithm>
#include <cstdio>
#include <dirent.h>
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

    bool is_regular_file(std::string const& path)
    {
        struct stat info { };
        return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
    }

    std::string tried_text(std::vector<std::string> const& paths)
    {
        std::string text;
        for (auto const& path : paths)
            text += (text.empty() ? "" : ", ") + path + " (missing)";
        return text;
    }

    // The first candidate holding the file, the way sdk/src/assets.cpp looks.
    Finding find_one(char const* check, std::vector<detail::Candidate> const& candidates, std::string const& name,
        bool executable, std::string const& fix)
    {
        std::vector<std::string> tried;
        for (auto const& candidate : candidates) {
            auto path = name.empty() ? candidate.path : candidate.path + "/" + name;
            if (is_regular_file(path) && (!executable || access(path.c_str(), X_OK) == 0))
                return { Verdict::Ok, check, path + " (" + candidate.origin + ", exists)" };
            tried.push_back(path);
        }
        if (tried.empty())
            return { Verdict::Fail, check, "nowhere to look: " + fix };
        return { Verdict::Fail, check, "not found: " + tried_text(tried) + "; " + fix };
    }

    Finding rootfs_finding(std::vector<detail::Candidate> const& directories)
    {
        std::vector<std::string> images;
        std::vector<std::string> names;
        for (auto const& directory : directories) {
            DIR* listing = opendir(directory.path.c_str());
            if (!listing)
                continue;
            while (dirent* entry = readdir(listing)) {
                std::string file = entry->d_name;
                if (!file.ends_with(detail::rootfs_suffix) || file.size() == std::string(detail::rootfs_suffix).size())
                    continue;
                auto name = file.substr(0, file.size() - std::string(detail::rootfs_suffix).size());
                // An earlier directory's image of the same name is the one used.
                if (std::find(names.begin(), names.end(), name) != names.end()
                    || !is_regular_file(directory.path + "/" + file))
                    continue;
                names.push_back(name);
                images.push_back(name + " (" + directory.path + "/" + file + ")");
            }
            closedir(listing);
        }
        if (images.empty())
            return { Verdict::Ok, "rootfs", "no images (optional: husk run --rootfs NAME needs <assets>/NAME.ext4)" };
        std::sort(images.begin(), images.end());
        std::string text;
        for (auto const& image : images)
            text += (text.empty() ? "" : ", ") + image;
        return { Verdict::Ok, "rootfs", text };
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

Finding network_finding(NetworkHostFacts const& facts)
{
    if (!facts.root && facts.passt)
        return { Verdict::Warn, "network",
            "--net none (default) or internet through passt, which has no egress policy: allow= lists, the "
            "always-denied ranges and the policy need root (network namespace, tap, nftables rules)" };
    if (!facts.root)
        return { Verdict::Warn, "network",
            "only --net none: the policy needs root (network namespace, tap, nftables rules), and --net internet "
            "without root needs passt (Debian package passt)" };
    if (!facts.tun)
        return { Verdict::Warn, "network",
            "only --net none: /dev/net/tun is missing (the kernel needs CONFIG_TUN; modprobe tun)" };
    if (!facts.ip_tool)
        return { Verdict::Warn, "network", "only --net none: the ip command is missing (Debian package iproute2)" };
    if (!facts.dnsmasq)
        return { Verdict::Warn, "network",
            "--net allow=CIDR[:PORT] only: internet and allowed names need the DNS forwarder dnsmasq "
            "(Debian package dnsmasq-base)" };
    return { Verdict::Ok, "network",
        "--net none (default), internet and allow=CIDR[:PORT],NAME[:PORT], --publish HOST:GUEST "
        "(network namespace, tap, nftables, dnsmasq)" };
}

Finding version_finding(detail::SearchPlan const& plan)
{
    auto text = "husk " + std::string(version()) + " (job protocol " + std::to_string(protocol_version()) + "), ";
    text += plan.installed_prefix ? "installed under " + *plan.installed_prefix
                                  : std::string("not installed (build tree)");
    return { Verdict::Ok, "version", text };
}

std::vector<Finding> asset_findings(detail::SearchPlan const& plan)
{
    std::string fix_assets = plan.installed_prefix ? "set HUSK_ASSETS_DIR or reinstall the husk package"
                                                   : "set HUSK_ASSETS_DIR or run packaging/build.sh <builddir>";
    return {
        find_one("husk-vmm", plan.vmm_paths, "", true,
            plan.installed_prefix ? "set HUSK_VMM or reinstall the husk package" : "set HUSK_VMM or build husk-vmm"),
        find_one("kernel", plan.asset_directories, detail::kernel_file_name, false, fix_assets),
        find_one("initramfs", plan.asset_directories, detail::initrd_file_name, false, fix_assets),
        rootfs_finding(plan.asset_directories),
    };
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
    auto plan = detail::plan_search(detail::current_search_inputs());
    std::vector<Finding> findings { version_finding(plan), kvm_flavour_finding(flavour, module), check_dev_kvm() };
    for (auto& finding : asset_findings(plan))
        findings.push_back(std::move(finding));
    NetworkHostFacts network;
    network.root = geteuid() == 0;
    network.tun = exists("/dev/net/tun");
    network.ip_tool
        = access("/usr/sbin/ip", X_OK) == 0 || access("/sbin/ip", X_OK) == 0 || access("/usr/bin/ip", X_OK) == 0;
    network.dnsmasq = access("/usr/sbin/dnsmasq", X_OK) == 0 || access("/sbin/dnsmasq", X_OK) == 0;
    network.passt = detail::find_passt().has_value();
    for (auto& finding :
        { check_io_uring(), check_seccomp(), check_cgroups(), jail_finding(geteuid()), network_finding(network) })
        findings.push_back(finding);
    return findings;
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
