// husk-lab-net-guest: a static helper the lab_net suite puts into the guest's initramfs, for what
// busybox cannot do. Modes:
//   udp-flood IP PORT SECONDS SIZE  send SIZE-byte UDP datagrams to IP:PORT as fast as the guest
//                                   can for SECONDS; prints `sent=N seconds=S` (S: how long it
//                                   really took, as a blocked send ends late)
//   hostile IFACE                   send frames a well-behaved stack never would through a packet
//                                   socket with PACKET_VNET_HDR (the guest kernel's driver builds
//                                   the device header from them): 1-byte GSO segments, checksum
//                                   fields at the frame's edge, GSO without payload, garbage
//                                   EtherTypes, runts and jumbo frames, a spoofed source address,
//                                   ARP replies claiming the gateway's address; prints
//                                   `accepted=N of M`
// Exit status 0 unless the tool itself could not run.
#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

// struct virtio_net_hdr as PACKET_VNET_HDR takes it (10 bytes; <linux/virtio_net.h> does not
// compile as C++: a member is named `class`).
struct VnetHeader {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
};
static_assert(sizeof(VnetHeader) == 10);
constexpr uint8_t needs_csum = 1;
constexpr uint8_t gso_tcpv4 = 1;
constexpr uint8_t gso_udp = 3;
constexpr uint8_t gso_tcpv6 = 4;

int udp_flood(char const* ip, int port, int seconds, int size)
{
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in peer {};
    peer.sin_family = AF_INET;
    peer.sin_port = htons(static_cast<uint16_t>(port));
    if (fd < 0 || ::inet_pton(AF_INET, ip, &peer.sin_addr) != 1)
        return 2;
    std::vector<char> payload(static_cast<size_t>(size), 'f');
    auto start = std::chrono::steady_clock::now();
    auto end = start + std::chrono::seconds(seconds);
    long sent = 0;
    while (std::chrono::steady_clock::now() < end) {
        for (int i = 0; i < 64; ++i) {
            if (::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&peer), sizeof peer) > 0)
                ++sent;
        }
    }
    // sendto blocks while the guest's queues are full, so the loop may end late: say how long.
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("sent=%ld seconds=%.2f\n", sent, elapsed);
    return 0;
}

struct Hostile {
    VnetHeader header;
    std::vector<uint8_t> frame;
};

std::vector<uint8_t> ipv4_tcp_frame(size_t payload)
{
    std::vector<uint8_t> frame(14 + 20 + 20 + payload, 0);
    std::memset(frame.data(), 0xff, 6); // broadcast destination: nobody answers
    frame[6] = 0x02;
    frame[12] = 0x08; // IPv4
    uint8_t* ip = frame.data() + 14;
    ip[0] = 0x45;
    uint16_t total = static_cast<uint16_t>(20 + 20 + payload);
    ip[2] = static_cast<uint8_t>(total >> 8);
    ip[3] = static_cast<uint8_t>(total);
    ip[8] = 64;
    ip[9] = 6; // TCP
    std::memcpy(ip + 12, "\x0a\x4d\x00\x02\x0a\x4d\x00\x01", 8);
    ip[20 + 12] = 0x50; // TCP data offset 5
    return frame;
}

int hostile(char const* interface)
{
    int fd = ::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    int on = 1;
    if (fd < 0 || ::setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &on, sizeof on) < 0) {
        std::perror("packet socket");
        return 2;
    }
    sockaddr_ll address {};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = static_cast<int>(::if_nametoindex(interface));
    if (address.sll_ifindex == 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) {
        std::perror("bind");
        return 2;
    }
    std::vector<Hostile> frames;
    auto add = [&](uint8_t flags, uint8_t gso_type, uint16_t gso_size, uint16_t hdr_len, uint16_t csum_start,
                   uint16_t csum_offset, std::vector<uint8_t> frame) {
        VnetHeader header {};
        header.flags = flags;
        header.gso_type = gso_type;
        header.gso_size = gso_size;
        header.hdr_len = hdr_len;
        header.csum_start = csum_start;
        header.csum_offset = csum_offset;
        frames.push_back({ header, std::move(frame) });
    };
    auto big = ipv4_tcp_frame(60000);
    add(needs_csum, gso_tcpv4, 1, 54, 34, 16, big); // 1-byte segments
    add(needs_csum, gso_tcpv4, 1448, 54, 34, 16, ipv4_tcp_frame(0)); // no payload
    add(needs_csum, gso_tcpv4, 1448, 0xffff, 34, 16, big); // hdr_len past the end
    add(needs_csum, gso_tcpv6, 1448, 54, 34, 16, big); // v6 GSO on a v4 frame
    add(needs_csum, gso_udp, 1448, 42, 34, 6, big); // UFO: never offered
    add(needs_csum, 0, 0, 0, 92, 0, ipv4_tcp_frame(40)); // checksum in the last 2 bytes
    add(needs_csum, 0, 0, 0, 0xfff0, 0xff, ipv4_tcp_frame(40)); // checksum far past the end
    add(needs_csum, 0, 0, 0, 2, 0, ipv4_tcp_frame(40)); // inside the Ethernet header
    add(0, 0, 0, 0, 0, 0, std::vector<uint8_t>(14, 0xab)); // a bare Ethernet header
    add(0, 0, 0, 0, 0, 0, ipv4_tcp_frame(9000)); // jumbo without GSO
    auto spoofed = ipv4_tcp_frame(40);
    std::memcpy(spoofed.data() + 14 + 12, "\xc6\x12\x07\x07", 4); // from 198.18.7.7, not the guest
    add(0, 0, 0, 0, 0, 0, spoofed);
    // "10.77.0.1 (the host's end, the guest's gateway) is at 02:00:00:00:00:00", broadcast.
    std::vector<uint8_t> arp_claim(14 + 28, 0);
    std::memset(arp_claim.data(), 0xff, 6);
    arp_claim[6] = 0x02;
    arp_claim[12] = 0x08;
    arp_claim[13] = 0x06;
    std::memcpy(arp_claim.data() + 14, "\x00\x01\x08\x00\x06\x04\x00\x02\x02\x00\x00\x00\x00\x00\x0a\x4d\x00\x01", 18);
    std::memset(arp_claim.data() + 14 + 18, 0xff, 6);
    std::memcpy(arp_claim.data() + 14 + 24, "\x0a\x4d\x00\x01", 4);
    for (int i = 0; i < 3; ++i)
        add(0, 0, 0, 0, 0, 0, arp_claim);
    std::vector<uint8_t> garbage(1500, 0x5a);
    garbage[12] = 0x12; // no such EtherType
    for (int i = 0; i < 200; ++i)
        add(0, 0, 0, 0, 0, 0, garbage);

    int accepted = 0;
    for (auto& hostile : frames) {
        std::vector<uint8_t> bytes(sizeof hostile.header + hostile.frame.size());
        std::memcpy(bytes.data(), &hostile.header, sizeof hostile.header);
        std::copy(hostile.frame.begin(), hostile.frame.end(), bytes.begin() + sizeof hostile.header);
        if (::send(fd, bytes.data(), bytes.size(), 0) > 0)
            ++accepted;
    }
    std::printf("accepted=%d of %zu\n", accepted, frames.size());
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "udp-flood" && argc == 6)
        return udp_flood(argv[2], std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]));
    if (mode == "hostile" && argc == 3)
        return hostile(argv[2]);
    std::fprintf(stderr, "usage: husk-lab-net-guest udp-flood IP PORT SECONDS SIZE | hostile IFACE\n");
    return 2;
}
