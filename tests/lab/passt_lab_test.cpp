// Lab: networking without root. `husk run --net internet` as an unprivileged user (nobody, via
// setpriv) gets its network from passt (sdk/src/passt_network.hpp) through husk-vmm's
// --net-stream and a real guest. The test process runs in a network namespace of its own, the
// "host": its uplink is a veth (198.18.0.1/24, default route via 198.18.0.2; passt takes its
// outbound interface from the default route) to a "world" namespace with an HTTP server on
// 198.18.0.2:8080 and a DNS server there that knows world.test, the host's only nameserver (a
// resolv.conf bound over the lab's). A host service listens on 127.0.0.1:8081 only. The guest
// fetches with busybox wget. Snapshots taken and restored as that user get a passt per clone.
#include "runtime/base/fd.hpp"
#include "runtime/net/network_namespace.hpp"
#include "tests/unit/runtime/net/net_test_world.hpp"

#include <array>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <thread>

using namespace husk;
using namespace husk::testing_net;
using namespace std::chrono_literals;

namespace {

constexpr char const* host_address = "198.18.0.1";
constexpr char const* world_address = "198.18.0.2";
constexpr char const* nobody = "65534";
constexpr char const* host_resolv_conf = "/tmp/husk-lab-passt-resolv.conf";
// The build's assets link into root's cache, which nobody may not enter: copies for the user.
constexpr char const* user_assets = "/tmp/husk-lab-passt-assets";

struct CliRun {
    int status { -1 };
    std::string out;
};

// The husk CLI (`arguments` after `husk`), as root or as nobody, its stdout and stderr together.
CliRun husk(std::string const& arguments, bool as_user = true)
{
    std::string command = (as_user ? std::string("setpriv --reuid=") + nobody + " --regid=" + nobody
                                      + " --clear-groups -- env TMPDIR=/tmp HOME=/tmp "
                                   : std::string("env "))
        + "HUSK_ASSETS_DIR=" + user_assets + " " + HUSK_CLI_PATH + " " + arguments + " 2>&1";
    CliRun run;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe)
        return run;
    std::array<char, 4096> buffer {};
    while (auto got = std::fread(buffer.data(), 1, buffer.size(), pipe))
        run.out.append(buffer.data(), got);
    int status = ::pclose(pipe);
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return run;
}

CliRun husk_run_as_user(std::string const& arguments) { return husk("run " + arguments); }

// Connects to 127.0.0.1:`port`, sends a line, and reads until `expected` arrives, the server
// closes, or 30 s pass. passt accepts every connection to a published port at once and only then
// connects to the guest, retrying while the guest is not up yet: a short wait would abandon the
// one connection the guest's one-shot server is about to answer. The client speaks first:
// bookworm's passt sends the handshake's last ACK to the guest only with the client's first
// bytes (docs/network-policy.md), so a server that speaks first waits until then.
std::string ask_loopback(uint16_t port, std::string const& expected)
{
    Fd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval limit { 30, 0 };
    ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    auto where = socket_address("127.0.0.1", port);
    if (::connect(socket.get(), reinterpret_cast<sockaddr*>(&where), sizeof where) < 0)
        return {};
    if (::write(socket.get(), "hello\n", 6) != 6)
        return {};
    std::string received;
    char buffer[256];
    while (received.find(expected) == std::string::npos) {
        auto got = ::read(socket.get(), buffer, sizeof buffer);
        if (got <= 0)
            break;
        received.append(buffer, static_cast<size_t>(got));
    }
    return received;
}

std::vector<pid_t> processes_named(std::string const& name)
{
    std::vector<pid_t> found;
    DIR* proc = ::opendir("/proc");
    if (!proc)
        return found;
    while (auto* entry = ::readdir(proc)) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
            continue;
        std::ifstream comm(std::string("/proc/") + entry->d_name + "/comm");
        std::string command;
        if (std::getline(comm, command) && command.starts_with(name))
            found.push_back(static_cast<pid_t>(std::stol(entry->d_name)));
    }
    ::closedir(proc);
    return found;
}

// One HTTP/1.0 response per connection, after reading the request.
void serve_http(char const* address, uint16_t port, std::string const& body)
{
    serve_tcp(address, port, "HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
        true);
}

class LabPasst : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        ASSERT_EQ(::geteuid(), 0u) << "the lab runs tests as root (they drop to nobody themselves)";
        ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << "a network namespace of the suite's own";
        // Ping sockets for every group, as Debian's systemd sets them (the lab's kernel default
        // lets nobody open one): passt answers the guest's ICMP echo through them.
        std::ofstream("/proc/sys/net/ipv4/ping_group_range") << "0 2147483647\n";
        // And a resolv.conf of its own, naming the world's DNS server: passt forwards the guest's
        // queries to this host's first nameserver.
        ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << "a mount namespace of the suite's own";
        ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
        std::ofstream(host_resolv_conf) << "nameserver " << world_address << "\n";
        ASSERT_EQ(::mount(host_resolv_conf, "/etc/resolv.conf", nullptr, MS_BIND, nullptr), 0) << strerror(errno);
        for (auto const& command : std::vector<std::vector<std::string>> { { "link", "set", "lo", "up" },
                 { "netns", "add", "passt-world" },
                 { "link", "add", "uplink0", "type", "veth", "peer", "name", "eth0", "netns", "passt-world" },
                 { "addr", "add", std::string(host_address) + "/24", "dev", "uplink0" },
                 { "link", "set", "uplink0", "up" }, { "-n", "passt-world", "link", "set", "lo", "up" },
                 { "-n", "passt-world", "addr", "add", std::string(world_address) + "/24", "dev", "eth0" },
                 { "-n", "passt-world", "link", "set", "eth0", "up" },
                 { "route", "add", "default", "via", world_address } }) {
            auto done = ip(command);
            ASSERT_TRUE(done) << done.error().message;
        }
        servers.push_back(start_in(named_netns_path("passt-world"), [] { serve_http(world_address, 8080, "hello-from-the-world\n"); }));
        servers.push_back(
            start_in(named_netns_path("passt-world"), [] { serve_dns(world_address, { { "world.test", world_address } }); }));
        servers.push_back(start_in("", [] { serve_http("127.0.0.1", 8081, "loopback-only-service\n"); }));
        // The lab's /dev is its own: let the unprivileged user open KVM, as a kvm group would.
        ASSERT_EQ(::chmod("/dev/kvm", 0666), 0);
        std::filesystem::create_directories(user_assets);
        for (char const* asset : { "vmlinux", "initramfs.cpio" })
            std::filesystem::copy_file(std::string(HUSK_ASSETS_DIR) + "/" + asset, std::string(user_assets) + "/" + asset,
                std::filesystem::copy_options::overwrite_existing);
        ASSERT_EQ(::chmod(user_assets, 0755), 0);
        ASSERT_TRUE(wait_until_serving(named_netns_path("passt-world"), world_address, 8080));
        ASSERT_TRUE(wait_until_serving("/proc/self/ns/net", "127.0.0.1", 8081));
    }
    static void TearDownTestSuite()
    {
        for (auto pid : servers) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        (void)ip({ "netns", "del", "passt-world" });
    }
    static inline std::vector<pid_t> servers;
};

// TCP to an address, then a name through passt's DNS forwarder (the guest's resolver, 10.0.2.3,
// which passt forwards to the host's nameserver) and TCP to what it resolved to; an ICMP echo.
TEST_F(LabPasst, HuskRunAsUser_NetInternet_FetchesFromTheWorldThroughPasst)
{
    // busybox wget (1.35) crashes with -T in this guest: no timeout option here.
    auto run = husk_run_as_user(std::string("-q --net internet -- sh -c 'wget -q -O - http://") + world_address
        + ":8080/; echo wget-exit $?; wget -q -O - http://world.test:8080/ | sed s/^/by-name:/; ping -c 1 -W 5 "
        + world_address + " >/dev/null; echo ping-exit $?'");
    EXPECT_EQ(run.status, 0) << run.out;
    EXPECT_NE(run.out.find("hello-from-the-world"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("wget-exit 0"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("by-name:hello-from-the-world"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("ping-exit 0"), std::string::npos) << run.out;
    EXPECT_TRUE(processes_named("passt").empty()) << "passt outlived its sandbox";
}

TEST_F(LabPasst, HuskRunAsUser_GatewayIsNotTheHostsLoopback)
{
    auto run = husk_run_as_user(
        "-q --net internet -- sh -c 'timeout 5 wget -q -O - http://10.0.2.2:8081/; echo wget-exit $?'");
    EXPECT_EQ(run.status, 0) << run.out;
    EXPECT_NE(run.out.find("wget-exit"), std::string::npos) << run.out;
    EXPECT_EQ(run.out.find("wget-exit 0"), std::string::npos) << run.out;
    EXPECT_EQ(run.out.find("wget-exit 139"), std::string::npos) << "wget crashed: no answer about the gateway\n" << run.out;
    EXPECT_EQ(run.out.find("loopback-only-service"), std::string::npos) << run.out;
}

// With --net-dns the guest's resolver asks that server itself, through passt.
TEST_F(LabPasst, HuskRunAsUser_GuestEth0HasPasstsAddress_AndNetDnsIsItsResolver)
{
    auto run = husk_run_as_user(std::string("-q --net internet --net-dns ") + world_address
        + " -- sh -c 'ip -4 addr show eth0 || ifconfig eth0; cat /etc/resolv.conf; wget -q -O - "
          "http://world.test:8080/ | sed s/^/by-name:/'");
    EXPECT_EQ(run.status, 0) << run.out;
    EXPECT_NE(run.out.find("10.0.2.15"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find(std::string("nameserver ") + world_address), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("by-name:hello-from-the-world"), std::string::npos) << run.out;
}

// A snapshot of a sandbox on passt's network, restored without root: each clone gets a passt of
// its own, probed from the MAC its guest kept (a published port's first frames go to the guest
// before it has sent any), and reaches the world through it. Two clones at once, then one
// restored by root.
TEST_F(LabPasst, SnapshotAsUser_ClonesAtOnce_EachOnAPasstOfItsOwn_AndAsRootOnAJailedNetwork)
{
    std::string const snapshot = "/tmp/husk-lab-passt-snapshot";
    std::filesystem::remove_all(snapshot);
    auto created = husk("snapshot create -q --net internet " + snapshot);
    ASSERT_EQ(created.status, 0) << created.out;

    std::string const fetch = std::string("wget -q -O - http://") + world_address + ":8080/; echo wget-exit $?";
    CliRun serving;
    std::thread published_clone([&] {
        serving = husk_run_as_user("-q --from " + snapshot + " --net internet --publish 18090:80 -- sh -c 'echo "
            + "clone-reached | nc -l -p 80; " + fetch + "'");
    });
    auto fetching = husk_run_as_user(
        "-q --from " + snapshot + " --net internet -- sh -c '" + fetch + "; ip -4 addr show eth0'");
    // Closed at once while the guest is up but not listening yet (it resets the connection).
    std::string reply;
    for (int attempt = 0; attempt < 300 && reply.find("clone-reached") == std::string::npos; ++attempt) {
        reply = ask_loopback(18090, "clone-reached");
        if (reply.find("clone-reached") == std::string::npos)
            std::this_thread::sleep_for(200ms);
    }
    published_clone.join();
    EXPECT_NE(reply.find("clone-reached"), std::string::npos) << "the published port never reached the clone\n"
                                                              << serving.out;
    for (auto const* run : { &fetching, &serving }) {
        EXPECT_EQ(run->status, 0) << run->out;
        EXPECT_NE(run->out.find("hello-from-the-world"), std::string::npos) << run->out;
        EXPECT_NE(run->out.find("wget-exit 0"), std::string::npos) << run->out;
    }
    EXPECT_NE(fetching.out.find("10.0.2.15"), std::string::npos) << fetching.out;
    EXPECT_TRUE(processes_named("passt").empty()) << "passt outlived its clone";

    // The same snapshot restored by root runs jailed, on a policy network of its own (no offloads
    // were negotiated on passt, so the tap takes it): the guest moves to that network's address.
    auto jailed = husk("run -q --from " + snapshot + " --net internet -- sh -c '" + fetch + "; ip -4 addr show eth0'",
        false);
    EXPECT_EQ(jailed.status, 0) << jailed.out;
    EXPECT_NE(jailed.out.find("hello-from-the-world"), std::string::npos) << jailed.out;
    EXPECT_NE(jailed.out.find("inet 10.231."), std::string::npos) << jailed.out;
    std::filesystem::remove_all(snapshot);
}

TEST_F(LabPasst, HuskRunAsUser_AllowList_RefusedNotOpened)
{
    auto run = husk_run_as_user("-q --net allow=198.18.0.1:8080 -- true");
    EXPECT_EQ(run.status, 125) << run.out;
    EXPECT_NE(run.out.find("cannot be enforced"), std::string::npos) << run.out;
    EXPECT_TRUE(processes_named("passt").empty());
}

} // namespace
