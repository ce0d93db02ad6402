// Network setup through SIOCSIFADDR, SIOCSIFNETMASK, SIOCSIFFLAGS and SIOCADDRT.
#include "guest-init/network_setup.hpp"

#include "runtime/base/fd.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace husk::init {

namespace {
    sockaddr_in socket_address(Ipv4Address const& address)
    {
        sockaddr_in socket_address {};
        socket_address.sin_family = AF_INET;
        std::memcpy(&socket_address.sin_addr, address.data(), address.size()); // already network order
        return socket_address;
    }

    Result<Fd> inet_socket()
    {
        Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (!fd.is_valid())
            return fail_errno("socket(AF_INET) for network setup");
        return fd;
    }

    ifreq interface_request(std::string_view interface)
    {
        ifreq request {};
        std::memcpy(request.ifr_name, interface.data(), std::min(interface.size(), sizeof request.ifr_name - 1));
        return request;
    }

    Result<void> set_up(int socket, std::string_view interface)
    {
        auto request = interface_request(interface);
        if (::ioctl(socket, SIOCGIFFLAGS, &request) < 0)
            return fail_errno(std::string(interface) + ": SIOCGIFFLAGS");
        request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
        if (::ioctl(socket, SIOCSIFFLAGS, &request) < 0)
            return fail_errno(std::string(interface) + ": bringing it up");
        return {};
    }

    Result<void> set_address(
        int socket, std::string_view interface, unsigned long request_code, Ipv4Address const& address)
    {
        auto request = interface_request(interface);
        auto value = socket_address(address);
        std::memcpy(&request.ifr_addr, &value, sizeof value);
        if (::ioctl(socket, request_code, &request) < 0)
            return fail_errno(std::string(interface) + ": setting "
                + (request_code == SIOCSIFADDR ? "address " : "netmask ") + format_ipv4_address(address));
        return {};
    }
} // namespace

Result<void> take_down(std::string_view interface)
{
    auto socket = TRY(inet_socket());
    auto request = interface_request(interface);
    if (::ioctl(socket.get(), SIOCGIFFLAGS, &request) < 0)
        return fail_errno(std::string(interface) + ": SIOCGIFFLAGS");
    request.ifr_flags = static_cast<short>(request.ifr_flags & ~IFF_UP);
    if (::ioctl(socket.get(), SIOCSIFFLAGS, &request) < 0)
        return fail_errno(std::string(interface) + ": taking it down");
    return {};
}

Result<void> bring_up_loopback()
{
    auto socket = TRY(inet_socket());
    return set_up(socket.get(), "lo");
}

Result<void> configure_interface(std::string_view interface, NetworkConfig const& config)
{
    auto socket = TRY(inet_socket());
    TRY(set_address(socket.get(), interface, SIOCSIFADDR, config.address));
    TRY(set_address(socket.get(), interface, SIOCSIFNETMASK, config.netmask()));
    TRY(set_up(socket.get(), interface));
    if (!config.gateway)
        return {};
    rtentry route {};
    auto destination = socket_address({ 0, 0, 0, 0 });
    auto gateway = socket_address(*config.gateway);
    auto mask = socket_address({ 0, 0, 0, 0 });
    std::memcpy(&route.rt_dst, &destination, sizeof destination);
    std::memcpy(&route.rt_gateway, &gateway, sizeof gateway);
    std::memcpy(&route.rt_genmask, &mask, sizeof mask);
    route.rt_flags = RTF_UP | RTF_GATEWAY;
    std::string device(interface);
    route.rt_dev = device.data();
    if (::ioctl(socket.get(), SIOCADDRT, &route) < 0 && errno != EEXIST)
        return fail_errno("default route via " + format_ipv4_address(*config.gateway));
    return {};
}

Result<void> write_resolv_conf(NetworkConfig const& config)
{
    auto text = resolv_conf_text(config);
    if (text.empty())
        return {};
    if (::mkdir("/etc", 0755) < 0 && errno != EEXIST)
        return fail_errno("mkdir /etc");
    struct stat status { };
    if (::lstat(resolv_conf_path, &status) == 0 && !S_ISREG(status.st_mode) && ::unlink(resolv_conf_path) < 0)
        return fail_errno(std::string("removing the non-file ") + resolv_conf_path);
    Fd fd(::open(resolv_conf_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd.is_valid())
        return fail_errno(std::string("writing ") + resolv_conf_path);
    return write_all(fd.get(), text.data(), text.size());
}

} // namespace husk::init
