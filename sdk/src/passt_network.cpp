// PasstNetwork: passt's command line, its start through a socketpair, and its readiness.
#include "sdk/src/passt_network.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

namespace husk::detail {

namespace {
    constexpr auto passt_exit_wait = std::chrono::milliseconds(200);
    constexpr char const* passt_log = "passt.log";
    constexpr size_t log_lines_in_errors = 8;
} // namespace

Result<void> check_passt_network(SandboxOptions const& options)
{
    if (options.network.starts_with("allow="))
        return fail(ErrorKind::BadConfig,
            "network \"" + options.network
                + "\" needs the jail, which needs root: without root the network comes from passt, which has no "
                  "egress policy, so an allow-list cannot be enforced (use \"internet\" for passt's unrestricted "
                  "network, or run as root)");
    for (auto const& server : options.dns_servers) {
        if (server.starts_with("127."))
            return fail(ErrorKind::BadConfig,
                "dns_servers: " + server
                    + " is this host's loopback, which a sandbox without root cannot reach (name a resolver by "
                      "another address, or give none to use this host's resolver through passt)");
    }
    return {};
}

std::string passt_guest_kernel_arguments(SandboxOptions const& options)
{
    std::string servers;
    for (size_t i = 0; i < options.dns_servers.size() && i < max_guest_nameservers; ++i)
        servers += (servers.empty() ? "" : ",") + options.dns_servers[i];
    return std::string("husk.ip=") + passt_guest_address + "/" + std::to_string(passt_guest_prefix)
        + " husk.gw=" + passt_gateway + " husk.dns=" + (servers.empty() ? passt_dns : servers);
}

std::vector<std::string> passt_vmm_arguments(MacBytes const& guest_mac)
{
    return { "--net-stream", "fd=" + std::to_string(passed_fd_number) + ",mac=" + format_mac(guest_mac) };
}

std::vector<std::string> passt_argv(std::string const& passt, int fd, SandboxOptions const& options)
{
    // IPv4 only, but not through --ipv4-only: bookworm's passt (0.0~git20230309) dies of
    // SIGSEGV at its first TCP frame to the guest with it once the guest has sent IPv6 frames
    // (Linux sends NDP and MLD on any link). Without router advertisements, DHCPv6 and NDP
    // answers the guest gets no IPv6 address or route beyond its link-local one.
    std::vector<std::string> argv { passt, "--foreground", "--quiet", "--fd", std::to_string(fd), "--no-ra",
        "--no-dhcpv6", "--no-ndp", "--address", passt_guest_address, "--netmask", std::to_string(passt_guest_prefix),
        "--gateway", passt_gateway,
        // The gateway stays an address out there, never this host's loopback services.
        "--no-map-gw" };
    // DNS: without dns_servers the guest asks passt_dns, which passt forwards to the first
    // nameserver of this host's /etc/resolv.conf (a loopback one too). With dns_servers the guest
    // asks them itself, as ordinary UDP through passt: bookworm's passt forwards only to
    // resolv.conf's server, whatever --dns says (--dns sets what it advertises; fixed upstream in
    // March 2024), so `--dns X --dns-forward Y` would send the queries nowhere.
    if (options.dns_servers.empty())
        argv.insert(argv.end(), { "--dns-forward", passt_dns });
    if (!options.publish.empty()) {
        std::string ports;
        for (auto const& port : options.publish)
            ports += (ports.empty() ? "" : ",") + std::to_string(port.host_port) + ":" + std::to_string(port.guest_port);
        argv.insert(argv.end(), { "--tcp-ports", ports });
    }
    return argv;
}

MacBytes random_guest_mac()
{
    MacBytes mac {};
    if (::getrandom(mac.data(), mac.size(), 0) != static_cast<ssize_t>(mac.size()))
        mac = { 0, 0, 0, 0, 0, static_cast<uint8_t>(::getpid()) };
    mac[0] = static_cast<uint8_t>((mac[0] & 0xfc) | 0x02); // unicast, locally administered
    return mac;
}

std::string format_mac(MacBytes const& mac)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    for (size_t i = 0; i < mac.size(); ++i) {
        if (i > 0)
            text += ':';
        text += digits[mac[i] >> 4];
        text += digits[mac[i] & 15];
    }
    return text;
}

namespace {
    std::array<uint8_t, 4> ipv4_bytes(char const* text)
    {
        in_addr address {};
        ::inet_pton(AF_INET, text, &address);
        std::array<uint8_t, 4> bytes {};
        std::memcpy(bytes.data(), &address, 4);
        return bytes;
    }

    // Ethernet broadcast, ARP request (RFC 826) for the gateway from the guest's address.
    std::vector<uint8_t> arp_request(MacBytes const& mac)
    {
        std::vector<uint8_t> frame(6, 0xff);
        frame.insert(frame.end(), mac.begin(), mac.end());
        frame.insert(frame.end(), { 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01 });
        frame.insert(frame.end(), mac.begin(), mac.end());
        auto guest = ipv4_bytes(passt_guest_address);
        frame.insert(frame.end(), guest.begin(), guest.end());
        frame.insert(frame.end(), 6, 0);
        auto gateway = ipv4_bytes(passt_gateway);
        frame.insert(frame.end(), gateway.begin(), gateway.end());
        return frame;
    }

    Result<void> read_exactly(int socket, uint8_t* data, size_t size, std::chrono::steady_clock::time_point deadline)
    {
        size_t done = 0;
        while (done < size) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                return fail(ErrorKind::GuestNotReady, "passt did not answer in time");
            pollfd readable { socket, POLLIN, 0 };
            int ready = ::poll(&readable, 1, static_cast<int>(left.count()));
            if (ready < 0 && errno == EINTR)
                continue;
            if (ready <= 0)
                continue;
            auto got = ::recv(socket, data + done, size - done, MSG_DONTWAIT);
            if (got == 0)
                return fail(ErrorKind::VmmStartFailed, "passt closed its socket");
            if (got < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    continue;
                return fail(ErrorKind::VmmStartFailed, Error::from_errno("reading passt's socket").message);
            }
            done += static_cast<size_t>(got);
        }
        return {};
    }
} // namespace

Result<void> probe_passt(int socket, MacBytes const& mac, std::chrono::steady_clock::time_point deadline)
{
    auto frame = arp_request(mac);
    std::vector<uint8_t> message { 0, 0, 0, static_cast<uint8_t>(frame.size()) };
    message.insert(message.end(), frame.begin(), frame.end());
    if (::send(socket, message.data(), message.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(message.size()))
        return fail(ErrorKind::VmmStartFailed, Error::from_errno("writing to passt's socket").message);
    // Frames until the ARP reply: passt sends nothing else before the guest speaks, but a
    // frame that is not it is skipped rather than misread.
    constexpr int max_frames = 8;
    auto gateway = ipv4_bytes(passt_gateway);
    for (int i = 0; i < max_frames; ++i) {
        std::array<uint8_t, 4> prefix {};
        TRY(read_exactly(socket, prefix.data(), prefix.size(), deadline));
        uint32_t length = (uint32_t { prefix[0] } << 24) | (uint32_t { prefix[1] } << 16) | (uint32_t { prefix[2] } << 8)
            | prefix[3];
        if (length == 0 || length > 65535 + 18)
            return fail(ErrorKind::VmmStartFailed, "passt sent a frame length of " + std::to_string(length));
        std::vector<uint8_t> reply(length);
        TRY(read_exactly(socket, reply.data(), reply.size(), deadline));
        // Ethernet type ARP, operation 2 (reply), sender protocol address the gateway.
        bool arp_reply = reply.size() >= 42 && reply[12] == 0x08 && reply[13] == 0x06 && reply[20] == 0 && reply[21] == 2
            && std::equal(gateway.begin(), gateway.end(), reply.begin() + 28);
        if (arp_reply)
            return {};
    }
    return fail(ErrorKind::VmmStartFailed, "passt did not answer an ARP request for its gateway");
}

Result<std::string> find_passt()
{
    if (char const* configured = std::getenv("HUSK_PASST"); configured && *configured)
        return std::string(configured);
    char const* path = std::getenv("PATH");
    std::string directories = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
    size_t start = 0;
    while (start <= directories.size()) {
        auto end = directories.find(':', start);
        if (end == std::string::npos)
            end = directories.size();
        auto directory = directories.substr(start, end - start);
        if (!directory.empty()) {
            auto candidate = directory + "/passt";
            if (::access(candidate.c_str(), X_OK) == 0)
                return candidate;
        }
        start = end + 1;
    }
    return fail(ErrorKind::BadConfig,
        "a network without root needs passt (Debian package passt), which is not on PATH (or set HUSK_PASST)");
}

Result<PasstNetwork> PasstNetwork::start(SandboxOptions const& options, std::string const& directory,
    MacBytes guest_mac, std::chrono::steady_clock::time_point deadline)
{
    auto passt = TRY(find_passt());
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
        return fail(ErrorKind::VmmStartFailed, Error::from_errno("socketpair for passt").message);
    Fd passt_end(pair[0]);
    Fd vmm_end(pair[1]);
    auto log_path = directory + "/" + passt_log;
    auto process = TRY(VmmChild::spawn(passt_argv(passt, passed_fd_number, options), log_path, passt_end.get()));
    passt_end.reset();
    PasstNetwork network(std::move(process), std::move(vmm_end), guest_mac);
    if (auto probed = probe_passt(network.vmm_socket(), network.m_mac, deadline); !probed) {
        auto error = std::move(probed).error();
        // A passt that failed says why in its log, and exits.
        (void)network.m_process->wait_exit(passt_exit_wait);
        error.message = "passt is not working: " + error.message;
        if (auto exit = network.m_process->peek_exit())
            error.message += std::string(exit->signaled ? " (killed by signal " : " (exited with status ")
                + std::to_string(exit->value) + ")";
        for (auto const& line : last_lines(log_path, log_lines_in_errors))
            error.message += "\n  " + line;
        network.stop();
        return unexpected(std::move(error));
    }
    return network;
}

void PasstNetwork::stop()
{
    if (!m_process)
        return;
    m_process->kill();
    m_process->reap();
    m_process.reset();
}

} // namespace husk::detail
