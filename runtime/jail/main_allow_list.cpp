// The main thread after setup: the supervisor loop (stop requests, host signals, timeout, halt
// sampling), joining the other threads, tearing the machine down and writing the stop report to
// a file opened before the filter. Installed once every other thread has started.
#include "runtime/jail/allow_lists.hpp"
#include "runtime/jail/allow_lists_detail.hpp"

#include <csignal>
#include <linux/io_uring.h>
#include "runtime/kvm/kvm_abi.hpp"

#include <linux/kvm.h>
#include <unistd.h>

namespace husk {

std::vector<SyscallRule> main_thread_allow_list(MainThreadValues values)
{
    std::vector<SyscallRule> rules {
        { "poll", "the supervisor waits on the stop eventfd and the signalfd", {} },
        { "ppoll", "poll() where glibc implements it with ppoll", {} },
        { "read", "drain the signalfd and the stop eventfd", {} },
        { "write", "log lines, the stop eventfd, the stop report", {} },
        { "futex", "condition variables (vCPU activity answers) and pthread_join", {} },
        { "getpid", "pthread_kill names our own process to tgkill", {} },
        { "rt_sigprocmask", "pthread_kill blocks signals around its tgkill", {} },
        { "tgkill", "kick vCPU threads of this process out of KVM_RUN, with the kick signal only", {},
            { arg_equals_32(0, values.pid), arg_equals_32(2, values.kick_signal) } },
        { "ioctl",
            "debug register dumps of stopped vCPUs (KVM_GET_REGS, KVM_GET_SREGS); snapshots: the state of paused "
            "vCPUs and of the in-kernel irqchip and kvmclock (read only)",
            { arg_equals_32(1, KVM_GET_REGS), arg_equals_32(1, KVM_GET_SREGS), arg_equals_32(1, kvm_abi::get_xsave), arg_equals_32(1, kvm_abi::get_xsave2),
                arg_equals_32(1, KVM_GET_XCRS), arg_equals_32(1, KVM_GET_LAPIC), arg_equals_32(1, kvm_abi::get_msrs),
                arg_equals_32(1, KVM_GET_MP_STATE), arg_equals_32(1, KVM_GET_VCPU_EVENTS),
                arg_equals_32(1, KVM_GET_DEBUGREGS), arg_equals_32(1, KVM_GET_TSC_KHZ), arg_equals_32(1, KVM_GET_IRQCHIP),
                arg_equals_32(1, KVM_GET_CLOCK) } },
        { "accept4", "control socket: take the next client", {} },
        { "recvmsg", "control socket: command lines and the snapshot files' descriptors (SCM_RIGHTS)", {} },
        { "sendto", "control socket: replies (send)", {} },
        { "pwrite64", "snapshots: guest memory into the memory file passed over the control socket", {} },
        { "ftruncate", "snapshots: size the state and memory files passed over the control socket", {} },
        { "clock_gettime", "timeouts, halt-check intervals and log times when the vDSO cannot answer", {} },
        { "close", "tear-down: vCPU, VM, eventfd and signalfd descriptors", {} },
        { "io_uring_enter", "tear-down: the event loop cancels what is pending and waits for the kernel", {} },
        { "io_uring_register", "tear-down: backends unregister their fixed files (file-table updates only)",
            { arg_equals_32(1, IORING_REGISTER_FILES_UPDATE) } },
        { "newfstatat", "tear-down: lstat of our own vsock socket before removing it", {} },
        { "unlink", "tear-down: remove our vsock listening socket", {} },
        { "shutdown", "tear-down: vsock streams still open are shut down so their peers see EOF at once", {} },
        { "exit_group", "husk-vmm exits with the status that describes the stop", {} },
    };
    append_memory_rules(rules);
    return rules;
}

} // namespace husk
