// The hostile suite's tap, namespace and frame stream.
#include "tests/lab/hostile_net_side.hpp"

#include "guest-init/network_setup.hpp"
#include "runtime/net/tap_device.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <sstream>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace husk::lab {

namespace {
    constexpr uint16_t local_experimental_ethertype = 0x88b5;
    constexpr auto frame_interval = std::chrono::milliseconds(2);
} // namespace

std::string hostile_net_tap_option()
{
    return std::string(hostile_tap_name) + ",mac=" + hostile_guest_mac + ",tx-pps=1000,tx-bytes=2M,rx-pps=2000";
}

std::string set_up_hostile_network()
{
    if (::geteuid() != 0)
        return "the net cases need root (network namespace, tap)";
    if (::unshare(CLONE_NEWNET) != 0)
        return std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
    auto tap = TapDevice::open(hostile_tap_name);
    if (!tap)
        return "tap: " + tap.error().message;
    if (::ioctl(tap->fd(), TUNSETPERSIST, 1) != 0)
        return std::string("TUNSETPERSIST: ") + std::strerror(errno);
    if (auto up = init::bring_up_loopback(); !up)
        return "loopback: " + up.error().message;
    init::NetworkConfig host_side;
    host_side.address = { 10, 78, 0, 1 };
    host_side.prefix_length = 24;
    if (auto configured = init::configure_interface(hostile_tap_name, host_side); !configured)
        return "tap address: " + configured.error().message;
    return {};
}

std::optional<TapCounters> read_tap_counters()
{
    // "  name: rx_bytes rx_packets errs drop fifo frame compressed multicast tx_bytes tx_packets
    //  errs drop ...", two header lines first.
    std::ifstream table("/proc/self/net/dev");
    std::string line;
    while (std::getline(table, line)) {
        auto colon = line.find(':');
        if (colon == std::string::npos)
            continue;
        auto name = line.substr(0, colon);
        name.erase(0, name.find_first_not_of(' '));
        if (name != hostile_tap_name)
            continue;
        std::istringstream fields(line.substr(colon + 1));
        uint64_t value[12] {};
        for (auto& field : value)
            fields >> field;
        if (!fields)
            return std::nullopt;
        return TapCounters { value[9], value[11], value[1] };
    }
    return std::nullopt;
}

std::string hostile_tap_counters()
{
    auto counters = read_tap_counters();
    if (!counters)
        return "no counters for the tap";
    return "tap " + std::string(hostile_tap_name) + ": to the guest " + std::to_string(counters->read_by_vmm)
        + " frames read by husk-vmm, " + std::to_string(counters->dropped) + " dropped; from the guest "
        + std::to_string(counters->from_guest) + " frames";
}

HostileNetTraffic::HostileNetTraffic()
{
    m_interface = static_cast<int>(::if_nametoindex(hostile_tap_name));
    m_socket = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (m_socket < 0 || m_interface == 0)
        return;
    m_thread = std::thread([this] { run(); });
}

HostileNetTraffic::~HostileNetTraffic()
{
    m_stop = true;
    if (m_thread.joinable())
        m_thread.join();
    if (m_socket >= 0)
        ::close(m_socket);
}

void HostileNetTraffic::run()
{
    sockaddr_ll address {};
    address.sll_family = AF_PACKET;
    address.sll_ifindex = m_interface;
    address.sll_halen = ETH_ALEN;
    uint8_t mac[ETH_ALEN];
    std::sscanf(
        hostile_guest_mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]);
    std::memcpy(address.sll_addr, mac, ETH_ALEN);
    std::vector<uint8_t> frame(ETH_FRAME_LEN);
    std::memcpy(frame.data(), mac, ETH_ALEN);
    uint8_t const source[ETH_ALEN] = { 0x02, 0, 0, 0x48, 0x4b, 0x02 };
    std::memcpy(frame.data() + ETH_ALEN, source, ETH_ALEN);
    frame[12] = local_experimental_ethertype >> 8;
    frame[13] = local_experimental_ethertype & 0xff;
    // Frames that left the tap's queue (read by husk-vmm or dropped) since the stream started;
    // none when the counters cannot be read, and then the stream is not held back.
    auto const before = read_tap_counters();
    auto unread = [&]() -> uint64_t {
        auto now = read_tap_counters();
        if (!before || !now)
            return 0;
        uint64_t gone = (now->read_by_vmm + now->dropped) - (before->read_by_vmm + before->dropped);
        return m_sent.load() > gone ? m_sent.load() - gone : 0;
    };
    for (unsigned sequence = 0; !m_stop; ++sequence) {
        // Frames the kernel itself sends to the guest (ARP replies) count as gone too: the
        // estimate errs on the low side by those few.
        if (unread() >= max_unread_frames) {
            std::this_thread::sleep_for(frame_interval);
            continue;
        }
        size_t length = sequence % 10 == 9 ? ETH_FRAME_LEN : 1000;
        std::memcpy(frame.data() + ETH_HLEN, &sequence, sizeof sequence);
        // Fails while no husk-vmm has the tap open (no carrier): nothing to do then.
        if (::sendto(
                m_socket, frame.data(), length, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&address), sizeof address)
            > 0)
            ++m_sent;
        std::this_thread::sleep_for(frame_interval);
    }
}

} // namespace husk::lab
