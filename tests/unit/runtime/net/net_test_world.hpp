// Test support for the sandbox network as root, on the machine itself without a VM: everything
// runs in a forked child inside a new network and mount namespace (its own /run/netns), so the
// "host" is a fresh namespace and nothing touches the machine's networking. A "world" namespace
// with a TCP server and a DNS server on 198.18.0.0/15 stands for the internet, and a "guest"
// namespace stands in for the VM: its veth end replaces the sandbox's tap under the tap's name,
// so the sandbox's rules see the guest's traffic exactly where the tap would bring it.
#pragma once

#include "runtime/net/host_command.hpp"
#include "runtime/net/ipv4.hpp"
#include "runtime/net/network_namespace.hpp"

#include <arpa/inet.h>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <string>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace husk::testing_net {

// Runs `scenario` in a child with its own network and mount namespaces and a private
// /run/netns; returns "" on success or what went wrong (the scenario's text, or how it died).
inline std::string in_isolated_host(std::function<std::string()> const& scenario)
{
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0)
        return "pipe failed";
    pid_t child = ::fork();
    if (child == 0) {
        ::close(pipe_fds[0]);
        std::string outcome;
        if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0)
            outcome = "unshare failed";
        else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            outcome = "making / private failed";
        else {
            ::mkdir("/run/netns", 0755);
            if (::mount("netns", "/run/netns", "tmpfs", 0, "mode=0755") != 0)
                outcome = "tmpfs on /run/netns failed";
            else
                outcome = scenario();
        }
        ::_exit(::write(pipe_fds[1], outcome.data(), outcome.size()) == ssize_t(outcome.size()) ? 0 : 1);
    }
    ::close(pipe_fds[1]);
    std::string outcome;
    char buffer[1024];
    ssize_t got = 0;
    while ((got = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0)
        outcome.append(buffer, static_cast<size_t>(got));
    ::close(pipe_fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    if (!WIFEXITED(status))
        return "the scenario's child died with signal " + std::to_string(WTERMSIG(status)) + " " + outcome;
    return outcome;
}

inline Result<void> ip(std::vector<std::string> arguments)
{
    arguments.insert(arguments.begin(), "/usr/sbin/ip");
    if (::access(arguments[0].c_str(), X_OK) != 0)
        arguments[0] = "/sbin/ip";
    return run_host_command(arguments);
}

inline sockaddr_in socket_address(char const* address, uint16_t port)
{
    sockaddr_in where {};
    where.sin_family = AF_INET;
    where.sin_port = htons(port);
    ::inet_pton(AF_INET, address, &where.sin_addr);
    return where;
}

// Starts a forked process in the namespace at `netns_path` (the current one if empty) that runs
// `serve`; returns its pid. The process dies with its parent.
inline pid_t start_in(std::string const& netns_path, std::function<void()> const& serve)
{
    pid_t pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (!netns_path.empty()) {
            int fd = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0)
                ::_exit(1);
        }
        serve();
        ::_exit(0);
    }
    return pid;
}

// A TCP server answering every connection with `reply` and closing it; with `read_request`,
// after reading what the client sent first (an HTTP client waits for its request to be read).
inline void serve_tcp(char const* address, uint16_t port, std::string reply, bool read_request = false)
{
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    int yes = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    auto where = socket_address(address, port);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&where), sizeof where) != 0 || ::listen(listener, 16) != 0)
        ::_exit(2);
    for (;;) {
        int connection = ::accept(listener, nullptr, nullptr);
        if (connection < 0)
            continue;
        char request[2048];
        // A client that left early finds no reply; what it expected tells its test.
        bool listening = !read_request || ::read(connection, request, sizeof request) >= 0;
        [[maybe_unused]] bool replied = listening && ::write(connection, reply.data(), reply.size()) >= 0;
        ::close(connection);
    }
}

// A DNS server answering A queries from `names` (name -> dotted quad), NXDOMAIN otherwise.
inline void serve_dns(char const* address, std::map<std::string, std::string> names)
{
    int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    auto where = socket_address(address, 53);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&where), sizeof where) != 0)
        ::_exit(2);
    for (;;) {
        unsigned char packet[512];
        sockaddr_in from {};
        socklen_t from_size = sizeof from;
        ssize_t got = ::recvfrom(fd, packet, sizeof packet, 0, reinterpret_cast<sockaddr*>(&from), &from_size);
        if (got < 17)
            continue;
        std::string name;
        size_t at = 12;
        while (at < static_cast<size_t>(got) && packet[at] != 0) {
            size_t length = packet[at];
            if (at + 1 + length > static_cast<size_t>(got))
                break;
            name += (name.empty() ? "" : ".") + std::string(reinterpret_cast<char*>(packet + at + 1), length);
            at += 1 + length;
        }
        size_t question_end = at + 5; // the root label, QTYPE, QCLASS
        if (question_end > static_cast<size_t>(got))
            continue;
        std::vector<unsigned char> answer(packet, packet + question_end);
        answer[2] = 0x81; // response, recursion desired
        answer[3] = 0x80; // recursion available, NOERROR
        answer[6] = answer[7] = answer[8] = answer[9] = answer[10] = answer[11] = 0;
        auto found = names.find(name);
        bool type_a = packet[at + 1] == 0 && packet[at + 2] == 1;
        if (found == names.end()) {
            answer[3] = 0x83; // NXDOMAIN
        } else if (type_a) {
            answer[7] = 1;
            unsigned char record[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 0, 0, 0, 0 };
            ::inet_pton(AF_INET, found->second.c_str(), record + 12);
            answer.insert(answer.end(), record, record + sizeof record);
        }
        ::sendto(fd, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from), from_size);
    }
}

enum class Reach { Connected, Refused, TimedOut, Error };

inline char const* to_string(Reach reach)
{
    switch (reach) {
    case Reach::Connected:
        return "connected";
    case Reach::Refused:
        return "refused";
    case Reach::TimedOut:
        return "timed out";
    case Reach::Error:
        break;
    }
    return "error";
}

// Connects from the namespace at `netns_path` to address:port, waiting at most `timeout_ms`.
inline Reach connect_from(std::string const& netns_path, char const* address, uint16_t port, int timeout_ms = 1000)
{
    int fd = -1;
    (void)in_network_namespace(netns_path, [&]() -> Result<void> {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        return {};
    });
    if (fd < 0)
        return Reach::Error;
    auto where = socket_address(address, port);
    Reach reach = Reach::Error;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&where), sizeof where) == 0) {
        reach = Reach::Connected;
    } else if (errno == EINPROGRESS) {
        pollfd wait { fd, POLLOUT, 0 };
        if (::poll(&wait, 1, timeout_ms) == 0) {
            reach = Reach::TimedOut;
        } else {
            int error = 0;
            socklen_t size = sizeof error;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
            reach = error == 0 ? Reach::Connected : (error == ECONNREFUSED ? Reach::Refused : Reach::TimedOut);
        }
    } else if (errno == ECONNREFUSED) {
        reach = Reach::Refused;
    } else if (errno == ENETUNREACH || errno == EHOSTUNREACH || errno == EACCES || errno == EPERM) {
        reach = Reach::Refused;
    }
    ::close(fd);
    return reach;
}

// Waits (at most 5 s) until a server started in the namespace at `netns_path` accepts
// connections there, so a loaded machine cannot make a test probe before the server listens.
inline bool wait_until_serving(std::string const& netns_path, char const* address, uint16_t port)
{
    for (int attempt = 0; attempt < 100; ++attempt) {
        if (connect_from(netns_path, address, port, 200) == Reach::Connected)
            return true;
        ::usleep(50'000);
    }
    return false;
}

// Asks `server` (port 53) from the namespace at `netns_path` for the A record of `name`.
// Returns the address, "REFUSED", "NXDOMAIN", "rcode N" or "no answer".
inline std::string resolve_from(std::string const& netns_path, std::string const& server, std::string const& name)
{
    int fd = -1;
    (void)in_network_namespace(netns_path, [&]() -> Result<void> {
        fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        return {};
    });
    if (fd < 0)
        return "no socket";
    std::vector<unsigned char> query { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
    size_t start = 0;
    while (start <= name.size()) {
        auto dot = name.find('.', start);
        auto label = name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        query.push_back(static_cast<unsigned char>(label.size()));
        query.insert(query.end(), label.begin(), label.end());
        if (dot == std::string::npos)
            break;
        start = dot + 1;
    }
    query.insert(query.end(), { 0, 0, 1, 0, 1 });
    auto where = socket_address(server.c_str(), 53);
    std::string result = "no answer";
    for (int attempt = 0; attempt < 3 && result == "no answer"; ++attempt) {
        ::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&where), sizeof where);
        pollfd wait { fd, POLLIN, 0 };
        if (::poll(&wait, 1, 1000) <= 0)
            continue;
        unsigned char answer[512];
        ssize_t got = ::recv(fd, answer, sizeof answer, 0);
        if (got < 12)
            continue;
        int rcode = answer[3] & 0x0f;
        if (rcode == 5)
            result = "REFUSED";
        else if (rcode == 3)
            result = "NXDOMAIN";
        else if (rcode != 0)
            result = "rcode " + std::to_string(rcode);
        else if (got >= static_cast<ssize_t>(query.size() + 16) && answer[7] >= 1) {
            char text[INET_ADDRSTRLEN];
            ::inet_ntop(AF_INET, answer + got - 4, text, sizeof text);
            result = text;
        }
    }
    ::close(fd);
    return result;
}

// The world: world0 198.18.0.1/30 in the host, 198.18.0.2 in it; servers on 198.18.1.10:80,
// 198.18.1.10:81 and 198.18.1.11:80, DNS on 198.18.1.53 (allowed.test and other.test); a
// "host service" on 198.18.0.1:2222 and a fake metadata service on 169.254.169.254:80.
inline Result<void> build_world()
{
    // What an earlier run in the same host left (tests/lab/repeat runs a suite again in one lab).
    (void)ip({ "netns", "del", "world" });
    (void)ip({ "link", "del", "world0" });
    (void)ip({ "addr", "del", "169.254.169.254/32", "dev", "lo" });
    TRY(ip({ "link", "set", "lo", "up" }));
    TRY(ip({ "netns", "add", "world" }));
    TRY(ip({ "link", "add", "world0", "type", "veth", "peer", "name", "eth0", "netns", "world" }));
    TRY(ip({ "addr", "add", "198.18.0.1/30", "dev", "world0" }));
    TRY(ip({ "link", "set", "world0", "up" }));
    TRY(ip({ "-n", "world", "link", "set", "lo", "up" }));
    TRY(ip({ "-n", "world", "addr", "add", "198.18.0.2/30", "dev", "eth0" }));
    TRY(ip({ "-n", "world", "link", "set", "eth0", "up" }));
    for (char const* address : { "198.18.1.10/32", "198.18.1.11/32", "198.18.1.53/32" })
        TRY(ip({ "-n", "world", "addr", "add", address, "dev", "lo" }));
    TRY(ip({ "-n", "world", "route", "add", "default", "via", "198.18.0.1" }));
    TRY(ip({ "route", "add", "198.18.1.0/24", "via", "198.18.0.2" }));
    TRY(ip({ "addr", "add", "169.254.169.254/32", "dev", "lo" }));
    auto world = named_netns_path("world");
    start_in(world, [] { serve_tcp("198.18.1.10", 80, "allowed"); });
    start_in(world, [] { serve_tcp("198.18.1.10", 81, "other port"); });
    start_in(world, [] { serve_tcp("198.18.1.11", 80, "denied host"); });
    start_in(world, [] {
        serve_dns("198.18.1.53", { { "allowed.test", "198.18.1.10" }, { "other.test", "198.18.1.11" } });
    });
    start_in("", [] { serve_tcp("198.18.0.1", 2222, "host"); });
    start_in("", [] { serve_tcp("169.254.169.254", 80, "metadata"); });
    for (auto [address, port] : { std::pair { "198.18.1.10", 80 }, { "198.18.1.10", 81 }, { "198.18.1.11", 80 } }) {
        if (!wait_until_serving(world, address, static_cast<uint16_t>(port)))
            return fail(std::string("the world's server on ") + address + " did not start");
    }
    if (!wait_until_serving("/proc/self/ns/net", "198.18.0.1", 2222)
        || !wait_until_serving("/proc/self/ns/net", "169.254.169.254", 80))
        return fail("the host's test servers did not start");
    return {};
}

} // namespace husk::testing_net
