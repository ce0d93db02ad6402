// vCPU threads: run the guest and handle its exits. Installed right before the first KVM_RUN.
#include "runtime/jail/allow_lists.hpp"
#include "runtime/jail/allow_lists_detail.hpp"

#include <linux/kvm.h>

namespace husk {

std::vector<SyscallRule> vcpu_thread_allow_list()
{
    std::vector<SyscallRule> rules {
        { "ioctl", "KVM_RUN; KVM_GET_MP_STATE and KVM_GET_REGS for halt detection; KVM_GET_SREGS for debug dumps",
            { arg_equals_32(1, KVM_RUN), arg_equals_32(1, KVM_GET_MP_STATE), arg_equals_32(1, KVM_GET_REGS),
                arg_equals_32(1, KVM_GET_SREGS) } },
        { "write", "serial console output, irqfd/eventfd signals, log lines", {} },
        { "futex", "activity answers (mutex, condition variable) and the stop controller", {} },
        { "rt_sigreturn", "return from the kick signal handler that breaks KVM_RUN", {} },
        { "clock_gettime", "log timestamps and the first-run time when the vDSO cannot answer", {} },
        { "rt_sigprocmask", "glibc blocks signals while the thread exits", {} },
        { "exit", "the thread ends after the VM stops", {} },
    };
    append_memory_rules(rules);
    return rules;
}

} // namespace husk
