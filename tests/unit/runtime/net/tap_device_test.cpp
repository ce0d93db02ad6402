// A real tap, as root, in a network namespace of a forked child (never the host's): TapDevice
// opens it with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR and a 12-byte header, sets offloads, attaches
// to a persistent tap; husk-init's configure_interface gives it an address and a default route
// (the same ioctls the guest makes on eth0); and NetDevice on UringNetBackend moves frames over
// it both ways: the host kernel's ARP request reaches the guest's receive buffer, and a UDP
// datagram the guest transmits reaches a host socket.
#include "guest-init/network_setup.hpp"
#include "runtime/base/fd.hpp"
#include "runtime/net/tap_device.hpp"
#include "runtime/net/uring_net_backend.hpp"
#include "virtio/net/net_device.hpp"
#include "virtio/testing/device_harness.hpp"

#include <arpa/inet.h>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sched.h>
#include <sstream>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace husk;
using namespace std::chrono_literals;
namespace net = husk::virtio::net;

namespace {

// Runs `action` in a forked child inside a new network namespace; its result is the exit code.
int in_private_netns(std::function<int()> const& action)
{
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::unshare(CLONE_NEWNET) < 0) {
            std::perror("unshare(CLONE_NEWNET)");
            ::_exit(90);
        }
        ::_exit(action());
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) { }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int check(bool ok, int code, std::string const& what)
{
    if (!ok)
        std::fprintf(stderr, "tap test step %d failed: %s\n", code, what.c_str());
    return ok ? 0 : code;
}

#define CHECK_STEP(condition, code, what)                                                                              \
    do {                                                                                                               \
        if (int failed = check((condition), (code), (what)))                                                           \
            return failed;                                                                                             \
    } while (0)

class TapDeviceTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (::geteuid() != 0)
            GTEST_SKIP() << "SKIPPING: a tap needs root (CAP_NET_ADMIN) and a network namespace";
    }
};

uint16_t ip_checksum(uint8_t const* data, size_t length)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < length; i += 2)
        sum += uint32_t { data[i] } << 8 | data[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

// header + Ethernet + IPv4 + UDP (checksum 0: none) from 10.9.0.2:4000 to 10.9.0.1:`port`.
std::vector<uint8_t> udp_frame(
    std::array<uint8_t, 6> const& destination, MacAddress const& source, uint16_t port, std::string const& payload)
{
    std::vector<uint8_t> bytes(net::header_size, 0);
    bytes.insert(bytes.end(), destination.begin(), destination.end());
    bytes.insert(bytes.end(), source.begin(), source.end());
    bytes.push_back(0x08);
    bytes.push_back(0x00);
    uint16_t total = static_cast<uint16_t>(20 + 8 + payload.size());
    uint8_t ip[20] = { 0x45, 0, static_cast<uint8_t>(total >> 8), static_cast<uint8_t>(total), 0, 1, 0x40, 0, 64, 17, 0,
        0, 10, 9, 0, 2, 10, 9, 0, 1 };
    uint16_t sum = ip_checksum(ip, sizeof ip);
    ip[10] = static_cast<uint8_t>(sum >> 8);
    ip[11] = static_cast<uint8_t>(sum);
    bytes.insert(bytes.end(), ip, ip + sizeof ip);
    uint16_t udp_length = static_cast<uint16_t>(8 + payload.size());
    uint8_t udp[8] = { 0x0f, 0xa0, static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port),
        static_cast<uint8_t>(udp_length >> 8), static_cast<uint8_t>(udp_length), 0, 0 };
    bytes.insert(bytes.end(), udp, udp + sizeof udp);
    bytes.insert(bytes.end(), payload.begin(), payload.end());
    return bytes;
}

} // namespace

TEST_F(TapDeviceTest, TapDevice_Open_VnetHeaderTwelveBytesAndOffloads)
{
    EXPECT_EQ(in_private_netns([] {
        auto tap = TapDevice::open("husk-t0");
        CHECK_STEP(tap.has_value(), 1, tap ? "" : tap.error().message);
        ifreq request {};
        CHECK_STEP(::ioctl(tap->fd(), TUNGETIFF, &request) == 0, 2, "TUNGETIFF");
        CHECK_STEP((request.ifr_flags & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)) == (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR),
            3, "flags");
        int header_size = 0;
        CHECK_STEP(::ioctl(tap->fd(), TUNGETVNETHDRSZ, &header_size) == 0 && header_size == 12, 4, "header size");
        CHECK_STEP(tap->set_offloads({ true, true, true }).has_value(), 5, "TUNSETOFFLOAD all");
        CHECK_STEP(tap->set_offloads({}).has_value(), 6, "TUNSETOFFLOAD none");
        CHECK_STEP(!TapDevice::open("bad/name").has_value(), 7, "a bad name is refused");
        return 0;
    }),
        0);
}

TEST_F(TapDeviceTest, TapDevice_PersistentTap_AttachedTo)
{
    EXPECT_EQ(in_private_netns([] {
        {
            auto tap = TapDevice::open("husk-p0");
            CHECK_STEP(tap.has_value(), 1, tap ? "" : tap.error().message);
            CHECK_STEP(::ioctl(tap->fd(), TUNSETPERSIST, 1) == 0, 2, "TUNSETPERSIST");
        }
        auto again = TapDevice::open("husk-p0");
        CHECK_STEP(again.has_value(), 3, again ? "" : again.error().message);
        CHECK_STEP(again->name() == "husk-p0", 4, "name");
        CHECK_STEP(::if_nametoindex("husk-p0") != 0, 5, "the interface exists");
        return 0;
    }),
        0);
}

TEST_F(TapDeviceTest, GuestNetworkSetup_OnATap_AddressAndDefaultRoute)
{
    EXPECT_EQ(in_private_netns([] {
        auto tap = TapDevice::open("husk-g0");
        CHECK_STEP(tap.has_value(), 1, tap ? "" : tap.error().message);
        CHECK_STEP(init::bring_up_loopback().has_value(), 2, "loopback up");
        init::NetworkConfig config;
        config.address = { 10, 9, 0, 1 };
        config.prefix_length = 24;
        config.gateway = init::Ipv4Address { 10, 9, 0, 254 };
        auto configured = init::configure_interface("husk-g0", config);
        CHECK_STEP(configured.has_value(), 3, configured ? "" : configured.error().message);
        std::ifstream routes("/proc/net/route");
        std::stringstream text;
        text << routes.rdbuf();
        // Default route (destination 0) via 10.9.0.254 (little-endian hex FE00090A) on husk-g0.
        CHECK_STEP(text.str().find("husk-g0\t00000000\tFE00090A") != std::string::npos, 4, text.str());
        return 0;
    }),
        0);
}

// What the agent does for a restored clone (guest-init/agent/guest_refresh.cpp): down, then the
// boot's steps with the new values. The old address, default route and neighbour entries go.
TEST_F(TapDeviceTest, GuestNetworkSetup_MovedToNewAddresses_OldRouteAndNeighboursGone)
{
    EXPECT_EQ(in_private_netns([] {
        auto tap = TapDevice::open("husk-m0");
        CHECK_STEP(tap.has_value(), 1, tap ? "" : tap.error().message);
        init::NetworkConfig old_config;
        old_config.address = { 10, 231, 0, 6 };
        old_config.prefix_length = 30;
        old_config.gateway = init::Ipv4Address { 10, 231, 0, 5 };
        CHECK_STEP(init::configure_interface("husk-m0", old_config).has_value(), 2, "old addresses");
        // The old gateway's MAC, as the guest had learnt it (a permanent entry: the hardest kind).
        arpreq entry {};
        sockaddr_in gateway {};
        gateway.sin_family = AF_INET;
        gateway.sin_addr.s_addr = htonl(0x0ae70005);
        std::memcpy(&entry.arp_pa, &gateway, sizeof gateway);
        entry.arp_ha.sa_family = 1; // ARPHRD_ETHER
        std::memcpy(entry.arp_ha.sa_data, "\x02\x01\x02\x03\x04\x05", 6);
        entry.arp_flags = ATF_PERM | ATF_COM;
        std::strcpy(entry.arp_dev, "husk-m0");
        Fd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        CHECK_STEP(::ioctl(socket.get(), SIOCSARP, &entry) == 0, 3, std::string("SIOCSARP: ") + std::strerror(errno));
        auto read_all = [](char const* path) {
            std::ifstream file(path);
            std::stringstream text;
            text << file.rdbuf();
            return text.str();
        };
        CHECK_STEP(read_all("/proc/net/arp").find("10.231.0.5") != std::string::npos, 4, read_all("/proc/net/arp"));

        init::NetworkConfig new_config;
        new_config.address = { 10, 231, 0, 14 };
        new_config.prefix_length = 30;
        new_config.gateway = init::Ipv4Address { 10, 231, 0, 13 };
        CHECK_STEP(init::take_down("husk-m0").has_value(), 5, "down");
        auto moved = init::configure_interface("husk-m0", new_config);
        CHECK_STEP(moved.has_value(), 6, moved ? "" : moved.error().message);

        auto routes = read_all("/proc/net/route");
        // Default route via 10.231.0.13 (0D00E70A), none via .5 (0500E70A), the new /30 (0C00E70A).
        CHECK_STEP(routes.find("husk-m0\t00000000\t0D00E70A") != std::string::npos, 7, routes);
        CHECK_STEP(routes.find("0500E70A") == std::string::npos, 8, routes);
        CHECK_STEP(routes.find("husk-m0\t0C00E70A") != std::string::npos, 9, routes);
        CHECK_STEP(read_all("/proc/net/arp").find("10.231.0.5") == std::string::npos, 10, read_all("/proc/net/arp"));
        ifreq request {};
        std::strcpy(request.ifr_name, "husk-m0");
        CHECK_STEP(::ioctl(socket.get(), SIOCGIFADDR, &request) == 0, 11, "SIOCGIFADDR");
        auto const* address = reinterpret_cast<sockaddr_in const*>(&request.ifr_addr);
        CHECK_STEP(address->sin_addr.s_addr == htonl(0x0ae7000e), 12, "the address is 10.231.0.14");
        return 0;
    }),
        0);
}

TEST_F(TapDeviceTest, NetDevice_OnARealTap_FramesBothWays)
{
    EXPECT_EQ(in_private_netns([] {
        auto tap = TapDevice::open("husk-d0");
        CHECK_STEP(tap.has_value(), 1, tap ? "" : tap.error().message);
        init::NetworkConfig host_side;
        host_side.address = { 10, 9, 0, 1 };
        host_side.prefix_length = 24;
        CHECK_STEP(init::configure_interface("husk-d0", host_side).has_value(), 2, "host side address");

        EventLoopConfig loop_config;
        loop_config.opcodes = net_backend_opcodes();
        loop_config.fixed_file_count = 8;
        auto loop = EventLoop::create(loop_config);
        CHECK_STEP(loop.has_value(), 3, loop ? "" : loop.error().message);
        TapDevice const& tap_ref = *tap;
        auto backend = UringNetBackend::create(
            *loop, tap->fd(), [&tap_ref](RxOffloads offloads) { return tap_ref.set_offloads(offloads); });
        CHECK_STEP(backend.has_value(), 4, "backend");
        NetDeviceConfig device_config;
        device_config.mac = { 0x02, 0x68, 0x75, 0x73, 0x6b, 0x01 };
        NetDevice device(**backend, device_config);
        auto harness = DeviceHarness::create(device, 0x1000000);
        CHECK_STEP(harness.has_value(), 5, "harness");
        auto& driver = (*harness)->driver();
        std::array<uint16_t, 2> sizes { 64, 64 };
        CHECK_STEP(driver.start(~uint64_t { 0 }, sizes).has_value(), 6, "driver start");
        std::vector<MockBuffer> rx_buffers;
        for (int i = 0; i < 48; ++i) { // GUEST_TSO acked: buffers for a 64 KiB frame
            auto rx = (*harness)->buffer(2048, BufferAccess::DeviceWritable);
            CHECK_STEP(rx && driver.queue(NetDevice::rx_queue).add_chain(std::vector { *rx }).has_value(), 7, "rx");
            rx_buffers.push_back(*rx);
        }
        driver.kick(NetDevice::rx_queue);
        auto run_until = [&](std::function<bool()> const& done) {
            auto deadline = std::chrono::steady_clock::now() + 3s;
            while (!done() && std::chrono::steady_clock::now() < deadline)
                (void)loop->run_once(10ms);
            return done();
        };

        // Host → guest: a datagram to 10.9.0.2 makes the host kernel ask for its MAC (ARP).
        int sender = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in peer {};
        peer.sin_family = AF_INET;
        peer.sin_port = htons(4000);
        peer.sin_addr.s_addr = htonl(0x0a090002);
        CHECK_STEP(::sendto(sender, "x", 1, 0, reinterpret_cast<sockaddr*>(&peer), sizeof peer) == 1, 8, "sendto");
        // The first frames may be the host's IPv6 neighbour discovery: wait for the ARP request.
        auto& memory = (*harness)->memory();
        std::optional<std::vector<uint8_t>> arp;
        CHECK_STEP(run_until([&] {
            if (arp)
                return true;
            auto used = driver.queue(NetDevice::rx_queue).pop_used();
            if (!used || !*used)
                return false;
            auto frame = (*harness)->bytes_at(rx_buffers[(*used)->id % 48].address, (*used)->length);
            if (frame && frame->size() >= net::header_size + 42 && (*frame)[net::header_size + 12] == 0x08
                && (*frame)[net::header_size + 13] == 0x06)
                arp = *frame;
            return arp.has_value();
        }),
            9, "no ARP request reached the guest");
        auto const* ethernet = arp->data() + net::header_size;
        CHECK_STEP(std::memcmp(ethernet + 14 + 24, "\x0a\x09\x00\x02", 4) == 0, 12, "asking for 10.9.0.2");
        std::array<uint8_t, 6> tap_mac {};
        std::memcpy(tap_mac.data(), ethernet + 6, 6);

        // Guest → host: a UDP datagram to 10.9.0.1:5000.
        int receiver = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        sockaddr_in local {};
        local.sin_family = AF_INET;
        local.sin_port = htons(5000);
        local.sin_addr.s_addr = htonl(0x0a090001);
        CHECK_STEP(::bind(receiver, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0, 13, "bind");
        auto bytes = udp_frame(tap_mac, device_config.mac, 5000, "hello from the guest");
        auto tx = (*harness)->buffer(static_cast<uint32_t>(bytes.size()), BufferAccess::DeviceReadable);
        CHECK_STEP(tx && memory.write(tx->address, bytes).has_value(), 14, "tx buffer");
        CHECK_STEP(driver.queue(NetDevice::tx_queue).add_chain(std::vector { *tx }).has_value(), 15, "tx chain");
        driver.kick(NetDevice::tx_queue);
        char received[64] = {};
        ssize_t count = -1;
        CHECK_STEP(run_until([&] {
            if (count <= 0)
                count = ::recv(receiver, received, sizeof received, 0);
            return count > 0;
        }),
            16,
            "the datagram did not reach the host socket: tx frames " + std::to_string(device.stats().tx_frames)
                + ", errors " + std::to_string(device.stats().tx_errors) + ", malformed "
                + std::to_string(device.stats().tx_malformed));
        CHECK_STEP(std::string(received, static_cast<size_t>(count)) == "hello from the guest", 17, "payload");
        CHECK_STEP(device.applied_rx_offloads() == (RxOffloads { true, true, true }), 18, "offloads");
        ::close(sender);
        ::close(receiver);
        return 0;
    }),
        0);
}
