// run_jailed: the launcher side (cgroup, PID namespace, supervision, cleanup) and the jailed
// VMM side (namespaces, root, then the jail steps after machine setup).
#include "runtime/main/jailed_launch.hpp"

#include "runtime/base/fd.hpp"
#include "runtime/base/log.hpp"
#include "runtime/jail/capabilities.hpp"
#include "runtime/jail/jail_root.hpp"
#include "runtime/jail/namespaces.hpp"
#include "runtime/jail/process_hygiene.hpp"
#include "runtime/main/exit_status.hpp"

#include <csignal>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace husk {

namespace {
    int vmm_error() { return static_cast<int>(VmmExitStatus::VmmError); }

    // The jailed VMM process. Never returns: its status is the VMM's.
    [[noreturn]] void jailed_vmm(JailSettings const& settings, JailedVmm const& vmm, int go_fd)
    {
        char go = 0;
        if (::read(go_fd, &go, 1) != 1) // the launcher died or could not place us in the cgroup
            ::_exit(vmm_error());
        ::close(go_fd);
        // Without its launcher nobody would clean up after us: die with it.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);

        auto setup = [&]() -> Result<std::optional<JailRoot>> {
            std::vector<int> keep { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
            keep.insert(keep.end(), settings.keep_fds.begin(), settings.keep_fds.end());
            TRY(close_inherited_fds(keep));
            TRY(enter_namespaces({ settings.network_namespace }));
            auto root = TRY(JailRoot::create(
                settings.directory, settings.id, JailOwner { settings.identity.uid, settings.identity.gid }));
            for (auto const& mount : settings.share_mounts)
                TRY_CONTEXT(root.add_mount(mount), "the shared directory " + mount.host_path);
            if (!settings.share_mounts.empty())
                TRY(root.mount_proc(jail_proc_path));
            return std::optional<JailRoot>(std::move(root));
        };
        auto root = setup();
        if (!root) {
            log_error("jail: " + root.error().message);
            ::_exit(vmm_error());
        }
        auto enter_jail = [&]() -> Result<void> {
            TRY((*root)->pivot());
            TRY(apply_resource_limits(settings.resource_limits));
            TRY(clear_environment());
            bool keep_capabilities = settings.capabilities == JailSettings::Capabilities::GuestOwnedShares;
            if (keep_capabilities)
                TRY(keep_share_capabilities_across_drop());
            TRY(drop_identity(settings.identity));
            if (keep_capabilities)
                TRY(raise_share_capabilities());
            // Changing the uid cleared the parent-death signal (the kernel does so on every
            // credential change): arm it again, or a VMM whose launcher was killed with -9 would
            // run on unsupervised, holding its network namespace, until its guest ends.
            if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
                return fail_errno("PR_SET_PDEATHSIG after dropping to the jail ids");
            log_info("jailed: root " + (*root)->path() + ", uid " + std::to_string(settings.identity.uid) + ", gid "
                + std::to_string(settings.identity.gid)
                + (keep_capabilities ? ", keeping CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID for shares"
                                     : ""));
            return {};
        };
        ::_exit(vmm(enter_jail));
    }

    // Waits for the VMM, forwarding SIGINT/SIGTERM (blocked since main() began) to it.
    Result<int> supervise(pid_t vmm)
    {
        sigset_t forwarded;
        sigemptyset(&forwarded);
        sigaddset(&forwarded, SIGINT);
        sigaddset(&forwarded, SIGTERM);
        int signal_fd = ::signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK);
        if (signal_fd < 0)
            return fail_errno("signalfd in the jail launcher");
        Fd signals(signal_fd);
        int pid_fd = static_cast<int>(::syscall(SYS_pidfd_open, vmm, 0));
        if (pid_fd < 0)
            return fail_errno("pidfd_open of the jailed VMM");
        Fd process(pid_fd);
        for (;;) {
            pollfd fds[] = { { process.get(), POLLIN, 0 }, { signals.get(), POLLIN, 0 } };
            if (::poll(fds, 2, -1) < 0 && errno != EINTR)
                return fail_errno("poll in the jail launcher");
            if (fds[1].revents & POLLIN) {
                signalfd_siginfo info {};
                if (::read(signals.get(), &info, sizeof info) == sizeof info)
                    ::kill(vmm, static_cast<int>(info.ssi_signo));
            }
            if (fds[0].revents & POLLIN) {
                int status = 0;
                if (::waitpid(vmm, &status, 0) < 0)
                    return fail_errno("waitpid for the jailed VMM");
                return status;
            }
        }
    }

    void clean_up(JailSettings const& settings)
    {
        if (settings.remove_network)
            settings.remove_network();
        if (auto removed = remove_jail_directory(settings.directory, settings.id); !removed)
            log_error("jail cleanup: " + removed.error().message);
        if (auto removed = remove_vm_cgroup(settings.cgroup_root, settings.cgroup_parent, settings.id); !removed)
            log_error("jail cleanup: " + removed.error().message);
    }

    [[noreturn]] void die_like(int signal_number)
    {
        ::signal(signal_number, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, signal_number);
        ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
        ::raise(signal_number);
        ::_exit(128 + signal_number);
    }
} // namespace

std::string jail_share_path(std::string const& tag) { return "shares/" + tag; }

int run_jailed(JailSettings const& settings, JailedVmm const& vmm)
{
    auto cgroup = VmCgroup::create(settings.cgroup_root, settings.cgroup_parent, settings.id, settings.cgroup_limits);
    if (!cgroup) {
        log_error("jail: " + cgroup.error().message);
        return vmm_error();
    }
    int go[2];
    if (::pipe2(go, O_CLOEXEC) != 0) {
        log_error(Error::from_errno("jail: pipe").message);
        clean_up(settings);
        return vmm_error();
    }
    if (auto entered = enter_pid_namespace(); !entered) {
        log_error("jail: " + entered.error().message);
        clean_up(settings);
        return vmm_error();
    }
    pid_t child = ::fork();
    if (child == 0) {
        ::close(go[1]);
        jailed_vmm(settings, vmm, go[0]);
    }
    ::close(go[0]);
    Fd go_fd(go[1]);
    if (child < 0) {
        log_error(Error::from_errno("jail: fork of the VMM").message);
        clean_up(settings);
        return vmm_error();
    }
    if (auto added = cgroup->add_process(child); !added) {
        log_error("jail: " + added.error().message);
        ::kill(child, SIGKILL);
    } else if (::write(go_fd.get(), "g", 1) != 1) {
        // The child sees the pipe close without its go and exits; supervise() reports that.
        log_error(Error::from_errno("jail: telling the VMM to start").message);
    }
    go_fd.reset();

    auto status = supervise(child);
    if (!status) {
        log_error("jail: " + status.error().message);
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
    }
    clean_up(settings);
    if (!status)
        return vmm_error();
    if (WIFSIGNALED(*status))
        die_like(WTERMSIG(*status));
    return WIFEXITED(*status) ? WEXITSTATUS(*status) : vmm_error();
}

} // namespace husk
