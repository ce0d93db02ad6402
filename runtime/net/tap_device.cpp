// TapDevice: /dev/net/tun, TUNSETIFF, TUNSETVNETHDRSZ and TUNSETOFFLOAD.
#include "runtime/net/tap_device.hpp"

#include "virtio/net/net_spec.hpp"

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <thread>

namespace husk {

namespace {
    constexpr auto busy_tap_wait = std::chrono::seconds(2);
}

bool is_valid_interface_name(std::string_view name)
{
    if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..")
        return false;
    for (char c : name) {
        auto byte = static_cast<unsigned char>(c);
        if (c == '/' || c == ':' || std::isspace(byte) || byte == 0 || byte >= 0x7f || byte < 0x20)
            return false;
    }
    return true;
}

unsigned tun_offload_flags(RxOffloads offloads)
{
    if (!offloads.checksum)
        return 0;
    unsigned flags = TUN_F_CSUM;
    if (offloads.tso4)
        flags |= TUN_F_TSO4;
    if (offloads.tso6)
        flags |= TUN_F_TSO6;
    return flags;
}

Result<TapDevice> TapDevice::open(std::string const& name)
{
    if (!is_valid_interface_name(name))
        return fail("'" + name + "' is not a valid network interface name (1-15 bytes, no '/', ':' or spaces)");
    auto fd = TRY_CONTEXT(Fd::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC), "tap " + name);
    ifreq request {};
    std::memcpy(request.ifr_name, name.data(), name.size());
    request.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    // EBUSY: the tap still has a queue attached. A VMM that just ended lets go of it only when
    // the kernel finishes tearing its io_uring down, a moment after the process exited, so a
    // successor on the same tap waits for that a little.
    auto deadline = std::chrono::steady_clock::now() + busy_tap_wait;
    int result = 0;
    while ((result = ::ioctl(fd.get(), TUNSETIFF, &request)) < 0 && errno == EBUSY
        && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (result < 0)
        return fail_errno("tap " + name
            + ": TUNSETIFF (create or attach; needs CAP_NET_ADMIN or a persistent tap "
              "owned by this user, and IFF_VNET_HDR)");
    int header_size = virtio::net::header_size;
    if (::ioctl(fd.get(), TUNSETVNETHDRSZ, &header_size) < 0)
        return fail_errno("tap " + name + ": TUNSETVNETHDRSZ 12");
    TapDevice tap(std::move(fd), std::string(request.ifr_name));
    TRY_CONTEXT(tap.set_offloads({}), "tap " + name);
    return tap;
}

Result<void> TapDevice::set_offloads(RxOffloads offloads) const
{
    if (::ioctl(m_fd.get(), TUNSETOFFLOAD, static_cast<unsigned long>(tun_offload_flags(offloads))) < 0)
        return fail_errno("TUNSETOFFLOAD");
    return {};
}

} // namespace husk
