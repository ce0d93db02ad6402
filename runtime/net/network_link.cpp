// RTM_DELLINK with an acknowledgement.
#include "runtime/net/network_link.hpp"

#include "runtime/base/fd.hpp"

#include <cstring>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

namespace husk {

bool network_link_exists(std::string const& name) { return ::if_nametoindex(name.c_str()) != 0; }

Result<void> delete_network_link(std::string const& name)
{
    unsigned index = ::if_nametoindex(name.c_str());
    if (index == 0)
        return {};
    int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return fail_errno("netlink socket");
    Fd socket(fd);
    struct {
        nlmsghdr header;
        ifinfomsg link;
    } request {};
    request.header.nlmsg_len = sizeof request;
    request.header.nlmsg_type = RTM_DELLINK;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    request.header.nlmsg_seq = 1;
    request.link.ifi_family = AF_UNSPEC;
    request.link.ifi_index = static_cast<int>(index);
    sockaddr_nl kernel {};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(socket.get(), &request, sizeof request, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
        return fail_errno("netlink: deleting " + name);
    alignas(nlmsghdr) char reply[4096];
    ssize_t got = ::recv(socket.get(), reply, sizeof reply, 0);
    if (got < static_cast<ssize_t>(sizeof(nlmsghdr) + sizeof(nlmsgerr)))
        return fail_errno("netlink: no answer deleting " + name);
    auto* header = reinterpret_cast<nlmsghdr*>(reply);
    if (header->nlmsg_type != NLMSG_ERROR)
        return fail("netlink: unexpected answer deleting " + name);
    nlmsgerr error {};
    std::memcpy(&error, NLMSG_DATA(header), sizeof error);
    if (error.error != 0 && error.error != -ENODEV)
        return fail_errno("deleting the interface " + name, -error.error);
    return {};
}

} // namespace husk
