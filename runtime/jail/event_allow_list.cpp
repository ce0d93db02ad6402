// The event thread: the io_uring EventLoop and the device backends on it. Almost all I/O goes
// through the ring (whose own restrictions limit opcodes and files); direct syscalls are for the
// ring itself, host-side vsock connects and tear-down. Installed before the first event runs.
#include "runtime/jail/allow_lists.hpp"
#include "runtime/jail/allow_lists_detail.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/io_uring.h>
#include <sys/socket.h>

namespace husk {

std::vector<SyscallRule> event_thread_allow_list()
{
    std::vector<SyscallRule> rules {
        { "io_uring_enter", "submit SQEs and wait for completions", {} },
        { "io_uring_register", "fixed-file table updates only (register/unregister a backend fd)",
            { arg_equals_32(1, IORING_REGISTER_FILES_UPDATE) } },
        { "read", "drain eventfds (stop, ioeventfd) outside the ring", {} },
        { "write", "irqfd signals and log lines", {} },
        { "socket", "guest-initiated vsock streams connect to <uds_path>_<port>: AF_UNIX only",
            { arg_equals_32(0, AF_UNIX) } },
        { "connect", "the AF_UNIX connect of a guest-initiated vsock stream", {} },
        { "fcntl",
            "make a freshly connected vsock socket blocking (F_GETFL, F_SETFL only); a snapshot reads open 9P fids' "
            "flags (F_GETFL)",
            { arg_equals_32(1, F_GETFL), arg_equals_32(1, F_SETFL) } },
        { "shutdown", "half-close a vsock stream when the guest shuts one direction", {} },
        { "close", "vsock streams, accepted sockets and other backend fds", {} },
        { "newfstatat", "lstat of our own vsock socket path before removing it", {} },
        { "unlink", "remove our vsock listening socket at tear-down", {} },
        { "preadv", "virtio-blk's synchronous fallback when the loop cannot take a disk image", {} },
        { "pwritev", "virtio-blk's synchronous fallback (writes)", {} },
        { "fdatasync", "virtio-blk's synchronous fallback (flush)", {} },
        { "fallocate", "virtio-blk's synchronous fallback (discard, write-zeroes)", {} },
        { "ioctl", "virtio-net: TUNSETOFFLOAD on the tap, to the receive offloads the guest acked (only that)",
            { arg_equals_32(1, TUNSETOFFLOAD) } },
        { "futex", "locks shared with vCPU threads (device state, stop controller)", {} },
        { "getrandom", "virtio-rng fills the guest's buffers from the host CSPRNG", {} },
        { "clock_gettime", "timers and log times when the vDSO cannot answer", {} },
        { "rt_sigprocmask", "glibc blocks signals while the thread exits", {} },
        { "exit", "the thread ends after the VM stops", {} },
    };
    append_memory_rules(rules);
    return rules;
}

} // namespace husk
