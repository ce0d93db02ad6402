// TapDevice: RAII owner of one tap queue (/dev/net/tun with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR),
// the virtio-net device's window onto the host network. Every frame read or written carries the
// 12-byte virtio_net_hdr_v1 first (TUNSETVNETHDRSZ 12), exactly as in the virtqueues. Opened
// before the jail pivots, in the network namespace the VMM is in then; the jailed VMM keeps only
// the descriptor (non-blocking, close-on-exec), and TUNSETOFFLOAD is the one ioctl it still
// makes on it.
#pragma once

#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"
#include "virtio/net/net_backend.hpp"

#include <string>
#include <string_view>

namespace husk {

// Linux's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
bool is_valid_interface_name(std::string_view name);

class TapDevice {
public:
    // Creates the tap `name`, or attaches to it when it exists as a persistent tap the caller may
    // use (owner or group, or CAP_NET_ADMIN). A tap another process still holds (EBUSY) is
    // retried for up to two seconds: a VMM that just ended releases it only once the kernel has
    // torn its io_uring down. Receive offloads start off: the guest has acked none yet.
    static Result<TapDevice> open(std::string const& name);

    int fd() const { return m_fd.get(); }
    std::string const& name() const { return m_name; }
    // TUNSETOFFLOAD: which offloaded frames the tap may hand the guest (see RxOffloads).
    Result<void> set_offloads(RxOffloads offloads) const;

private:
    TapDevice(Fd fd, std::string name)
        : m_fd(std::move(fd))
        , m_name(std::move(name))
    {
    }

    Fd m_fd;
    std::string m_name;
};

// The TUN_F_* flags for `offloads` (TSO only together with CSUM, as the kernel requires).
unsigned tun_offload_flags(RxOffloads offloads);

} // namespace husk
