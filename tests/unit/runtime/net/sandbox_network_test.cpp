// SandboxNetwork for real, as root, without a VM (tests/unit/runtime/net/net_test_world.hpp):
// every scenario runs in a fresh network namespace standing for the host, with a "world" on
// 198.18.0.0/15 and a stand-in guest on the sandbox's tap link. The lab suite lab_netpolicy
// runs the same checks with real guests.
#include "runtime/net/network_teardown.hpp"
#include "runtime/net/sandbox_network.hpp"
#include "tests/unit/runtime/net/net_test_world.hpp"

#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/ioctl.h>

using namespace husk;
using namespace husk::testing_net;

namespace {

// A private lock-file directory for one scenario, removed after the networks that use it
// (declare it first).
struct StateDirectory {
    StateDirectory()
    {
        char pattern[] = "/tmp/husk-net-test-XXXXXX";
        if (::mkdtemp(pattern) != nullptr)
            parent = pattern;
        path = parent + "/net";
    }
    ~StateDirectory()
    {
        std::error_code ignored;
        std::filesystem::remove_all(parent, ignored);
    }
    std::string parent;
    std::string path;
};

#define CHECK(condition, message)                                                                                      \
    do {                                                                                                               \
        if (!(condition))                                                                                              \
            return std::string(message) + " (line " + std::to_string(__LINE__) + ")";                                  \
    } while (0)

#define CHECK_OK(expression)                                                                                           \
    do {                                                                                                               \
        if (auto const& husk_check_ = (expression); !husk_check_)                                                      \
            return husk_check_.error().message + " (line " + std::to_string(__LINE__) + ")";                           \
    } while (0)

// An expected answer (connected, refused) may take long on a loaded machine and costs nothing
// when it comes at once; only an expected silence waits out the short timeout.
#define CHECK_REACH(netns, address, port, expected)                                                                    \
    do {                                                                                                               \
        auto husk_reach_ = connect_from(netns, address, port, (expected) == Reach::TimedOut ? 700 : 5000);             \
        if (husk_reach_ != (expected))                                                                                 \
            return std::string(address) + ":" + std::to_string(port) + " " + to_string(husk_reach_) + ", expected "    \
                + to_string(expected) + " (line " + std::to_string(__LINE__) + ")";                                    \
    } while (0)

// Replaces the sandbox's tap with a veth of the same name whose other end is eth0 of a new
// namespace `name` holding the guest's address. Returns that namespace's path.
Result<std::string> attach_stand_in_guest(SandboxNetwork const& network, std::string const& name)
{
    auto const& a = network.addresses();
    auto sandbox = a.netns_name();
    std::string gateway = to_string(a.gateway) + "/30";
    TRY(ip({ "-n", sandbox, "link", "del", sandbox_tap_name }));
    TRY(ip({ "netns", "add", name }));
    TRY(ip({ "-n", sandbox, "link", "add", sandbox_tap_name, "type", "veth", "peer", "name", "eth0", "netns", name }));
    TRY(ip({ "-n", sandbox, "addr", "add", gateway, "dev", sandbox_tap_name }));
    TRY(ip({ "-n", sandbox, "link", "set", sandbox_tap_name, "up" }));
    TRY(ip({ "-n", name, "link", "set", "lo", "up" }));
    TRY(ip({ "-n", name, "addr", "add", to_string(a.guest) + "/30", "dev", "eth0" }));
    TRY(ip({ "-n", name, "link", "set", "eth0", "up" }));
    TRY(ip({ "-n", name, "route", "add", "default", "via", to_string(a.gateway) }));
    ::usleep(50'000);
    return named_netns_path(name);
}

SandboxNetworkRequest request_for(char const* policy, std::string const& directory)
{
    SandboxNetworkRequest request;
    request.policy = *parse_network_policy(policy);
    request.tap_uid = request.tap_gid = 1900065000;
    request.owner = "test";
    request.dns_upstreams = { *parse_ipv4_address("198.18.1.53") };
    request.state_directory = directory;
    return request;
}

std::vector<std::string> entries(char const* path)
{
    std::vector<std::string> names;
    if (DIR* directory = ::opendir(path)) {
        while (auto* entry = ::readdir(directory)) {
            std::string name = entry->d_name;
            if (name != "." && name != "..")
                names.push_back(name);
        }
        ::closedir(directory);
    }
    return names;
}

// Denied destinations are dropped (always-denied ones) or rejected (outside the allow-list):
// either way no connection.
#define CHECK_BLOCKED(netns, address, port)                                                                            \
    do {                                                                                                               \
        auto husk_reach_ = connect_from(netns, address, port, 700);                                                    \
        if (husk_reach_ != Reach::Refused && husk_reach_ != Reach::TimedOut)                                           \
            return std::string(address) + ":" + std::to_string(port) + " " + to_string(husk_reach_)                    \
                + ", expected it blocked (line " + std::to_string(__LINE__) + ")";                                     \
    } while (0)

size_t interface_count()
{
    size_t count = 0;
    if (auto* list = ::if_nameindex()) {
        for (auto* entry = list; entry->if_index != 0; ++entry)
            ++count;
        ::if_freenameindex(list);
    }
    return count;
}

// Sends, from the calling thread's namespace, an unsolicited ARP reply and a gratuitous ARP
// request on `interface` for each address in `claims`, each saying "this address is at my MAC".
// Returns that MAC as /proc/net/arp prints it.
Result<std::string> claim_addresses_by_arp(char const* interface, std::vector<std::string> const& claims)
{
    int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
    if (fd < 0)
        return fail_errno("packet socket");
    ifreq request {};
    std::strncpy(request.ifr_name, interface, IFNAMSIZ - 1);
    if (::ioctl(fd, SIOCGIFHWADDR, &request) != 0) {
        ::close(fd);
        return fail_errno("SIOCGIFHWADDR");
    }
    uint8_t mac[6];
    std::memcpy(mac, request.ifr_hwaddr.sa_data, 6);
    sockaddr_ll link {};
    link.sll_family = AF_PACKET;
    link.sll_protocol = htons(ETH_P_ARP);
    link.sll_ifindex = static_cast<int>(::if_nametoindex(interface));
    link.sll_halen = 6;
    std::memset(link.sll_addr, 0xff, 6);
    for (auto const& claim : claims) {
        in_addr address {};
        ::inet_pton(AF_INET, claim.c_str(), &address);
        for (uint8_t operation : { 2, 1 }) { // an unsolicited reply, then a gratuitous request
            uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, operation };
            std::memcpy(arp + 8, mac, 6);
            std::memcpy(arp + 14, &address, 4);
            std::memset(arp + 18, operation == 2 ? 0xff : 0, 6);
            std::memcpy(arp + 24, &address, 4);
            for (int repeat = 0; repeat < 3; ++repeat)
                ::sendto(fd, arp, sizeof arp, 0, reinterpret_cast<sockaddr*>(&link), sizeof link);
        }
    }
    ::close(fd);
    char text[18];
    std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return std::string(text);
}

// The IPv4 addresses /proc/net/arp of namespace `netns_path` maps to `mac`.
Result<std::vector<std::string>> addresses_at_mac(std::string const& netns_path, std::string const& mac)
{
    std::vector<std::string> addresses;
    TRY(in_network_namespace(netns_path, [&]() -> Result<void> {
        std::ifstream table("/proc/net/arp");
        std::string line;
        while (std::getline(table, line))
            if (line.find(mac) != std::string::npos)
                addresses.push_back(line.substr(0, line.find(' ')));
        return {};
    }));
    return addresses;
}

class SandboxNetworkTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (::geteuid() != 0)
            GTEST_SKIP() << "SKIPPING: sandbox networking needs root (network namespaces, nftables)";
        if (::access("/usr/sbin/dnsmasq", X_OK) != 0)
            GTEST_SKIP() << "SKIPPING: dnsmasq is not installed (packaging/setup.sh installs it)";
    }
};

} // namespace

TEST_F(SandboxNetworkTest, AllowList_ReachesOnlyTheAllowedServerAndPort)
{
    auto outcome = in_isolated_host([]() -> std::string {
        StateDirectory state;
        CHECK_OK(build_world());
        auto network = SandboxNetwork::create(request_for("allow=198.18.1.10:80", state.path));
        CHECK_OK(network);
        CHECK(!(*network)->has_dns_forwarder(), "no names, no forwarder");
        auto guest = attach_stand_in_guest(**network, "guest");
        CHECK_OK(guest);
        CHECK_REACH(*guest, "198.18.1.10", 80, Reach::Connected);
        CHECK_REACH(*guest, "198.18.1.10", 81, Reach::Refused);
        CHECK_REACH(*guest, "198.18.1.11", 80, Reach::Refused);
        CHECK_BLOCKED(*guest, "169.254.169.254", 80);
        CHECK_BLOCKED(*guest, "198.18.0.1", 2222);
        CHECK_BLOCKED(*guest, to_string((*network)->addresses().host_end).c_str(), 2222);
        CHECK_REACH(*guest, to_string((*network)->addresses().gateway).c_str(), 53, Reach::TimedOut);
        return "";
    });
    EXPECT_EQ(outcome, "");
}

TEST_F(SandboxNetworkTest, Internet_ReachesPublicButNeitherHostMetadataNorAnotherSandbox)
{
    auto outcome = in_isolated_host([]() -> std::string {
        CHECK_OK(build_world());
        StateDirectory state;
        auto directory = state.path;
        auto first = SandboxNetwork::create(request_for("internet", directory));
        CHECK_OK(first);
        auto second = SandboxNetwork::create(request_for("internet", directory));
        CHECK_OK(second);
        CHECK((*first)->addresses().slot != (*second)->addresses().slot, "two sandboxes share a slot");
        auto guest = attach_stand_in_guest(**first, "guest1");
        CHECK_OK(guest);
        auto other = attach_stand_in_guest(**second, "guest2");
        CHECK_OK(other);
        auto other_address = to_string((*second)->addresses().guest);
        start_in(*other, [other_address] { serve_tcp(other_address.c_str(), 80, "other sandbox"); });
        CHECK(wait_until_serving(*other, other_address.c_str(), 80), "the other guest's server did not start");
        CHECK_REACH(*guest, "198.18.1.11", 80, Reach::Connected);
        CHECK_REACH(*guest, "198.18.1.10", 81, Reach::Connected);
        CHECK_BLOCKED(*guest, "169.254.169.254", 80);
        CHECK_BLOCKED(*guest, "198.18.0.1", 2222);
        CHECK_BLOCKED(*guest, other_address.c_str(), 80);
        CHECK(resolve_from(*guest, to_string((*first)->addresses().gateway), "other.test") == "198.18.1.11",
            "internet: the forwarder resolves any name");
        return "";
    });
    EXPECT_EQ(outcome, "");
}

TEST_F(SandboxNetworkTest, SpoofedSource_IsDropped)
{
    auto outcome = in_isolated_host([]() -> std::string {
        StateDirectory state;
        CHECK_OK(build_world());
        auto network = SandboxNetwork::create(request_for("internet", state.path));
        CHECK_OK(network);
        auto guest = attach_stand_in_guest(**network, "guest");
        CHECK_OK(guest);
        CHECK_OK(ip({ "-n", "guest", "addr", "add", "198.18.7.7/32", "dev", "lo" }));
        int fd = -1;
        CHECK_OK(in_network_namespace(*guest, [&]() -> Result<void> {
            fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            return {};
        }));
        auto source = socket_address("198.18.7.7", 0);
        CHECK(::bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source) == 0, "bind");
        auto target = socket_address("198.18.1.10", 80);
        ::connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof target);
        pollfd wait { fd, POLLOUT, 0 };
        int ready = ::poll(&wait, 1, 700);
        int error = 0;
        socklen_t size = sizeof error;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
        CHECK(ready == 0 || error != 0, "a spoofed source got through");
        return "";
    });
    EXPECT_EQ(outcome, "");
}

// A guest answering ARP for addresses it does not own (its gateway, another sandbox's guest and
// gateway, a world server) poisons no neighbour table: its link is a /30 of its own, the gateway
// address is local to the sandbox's namespace, and the host never shares a link with a guest.
// The policy is unchanged afterwards, for the spoofer and for the other sandbox.
TEST_F(SandboxNetworkTest, ArpSpoofing_PoisonsNoNeighbourTableAndChangesNoPolicy)
{
    auto outcome = in_isolated_host([]() -> std::string {
        CHECK_OK(build_world());
        StateDirectory state;
        auto first = SandboxNetwork::create(request_for("allow=198.18.1.10:80", state.path));
        CHECK_OK(first);
        auto second = SandboxNetwork::create(request_for("allow=198.18.1.10:80", state.path));
        CHECK_OK(second);
        auto guest = attach_stand_in_guest(**first, "guest1");
        CHECK_OK(guest);
        auto other = attach_stand_in_guest(**second, "guest2");
        CHECK_OK(other);
        auto const& mine = (*first)->addresses();
        auto const& theirs = (*second)->addresses();
        auto other_address = to_string(theirs.guest);
        start_in(*other, [other_address] { serve_tcp(other_address.c_str(), 80, "other sandbox"); });
        CHECK(wait_until_serving(*other, other_address.c_str(), 80), "the other guest's server did not start");
        CHECK_REACH(*guest, "198.18.1.10", 80, Reach::Connected); // the sandbox learns the guest's MAC

        std::vector<std::string> claims { to_string(mine.gateway), to_string(mine.host_end), other_address,
            to_string(theirs.gateway), "198.18.1.10", "198.18.0.1" };
        std::string spoofer;
        CHECK_OK(in_network_namespace(*guest, [&]() -> Result<void> {
            spoofer = TRY(claim_addresses_by_arp("eth0", claims));
            return {};
        }));
        ::usleep(200'000);

        auto in_sandbox = addresses_at_mac(named_netns_path(mine.netns_name()), spoofer);
        CHECK_OK(in_sandbox);
        // The guest's own entry shows the lookup reads the table the spoofer aimed at.
        CHECK(!in_sandbox->empty(), "the sandbox namespace has no entry for the guest's MAC " + spoofer);
        for (auto const& address : *in_sandbox)
            CHECK(address == to_string(mine.guest), "the sandbox namespace maps " + address + " to the spoofer");
        for (auto const& netns : { std::string("/proc/self/ns/net"), named_netns_path(theirs.netns_name()) }) {
            auto mapped = addresses_at_mac(netns, spoofer);
            CHECK_OK(mapped);
            CHECK(mapped->empty(), netns + " maps " + (mapped->empty() ? "" : mapped->front()) + " to the spoofer");
        }

        CHECK_REACH(*guest, "198.18.1.10", 80, Reach::Connected);
        CHECK_REACH(*guest, "198.18.1.11", 80, Reach::Refused);
        CHECK_BLOCKED(*guest, other_address.c_str(), 80);
        CHECK_BLOCKED(*guest, "198.18.0.1", 2222);
        CHECK_REACH(*other, "198.18.1.10", 80, Reach::Connected);
        CHECK_REACH(*other, "198.18.1.11", 80, Reach::Refused);
        return "";
    });
    EXPECT_EQ(outcome, "");
}

TEST_F(SandboxNetworkTest, AllowedName_OpensOnlyWhatTheForwarderResolvedForIt)
{
    auto outcome = in_isolated_host([]() -> std::string {
        StateDirectory state;
        CHECK_OK(build_world());
        auto network = SandboxNetwork::create(request_for("allow=allowed.test:80", state.path));
        CHECK_OK(network);
        CHECK((*network)->has_dns_forwarder(), "names need the forwarder");
        CHECK((*network)->guest_kernel_arguments().find("husk.dns=") != std::string::npos, "no husk.dns");
        auto guest = attach_stand_in_guest(**network, "guest");
        CHECK_OK(guest);
        auto gateway = to_string((*network)->addresses().gateway);
        CHECK_REACH(*guest, "198.18.1.10", 80, Reach::Refused); // not resolved yet
        auto allowed = resolve_from(*guest, gateway, "allowed.test");
        CHECK(allowed == "198.18.1.10", "allowed.test resolved to " + allowed);
        CHECK_REACH(*guest, "198.18.1.10", 80, Reach::Connected);
        CHECK_REACH(*guest, "198.18.1.10", 81, Reach::Refused);
        auto other = resolve_from(*guest, gateway, "other.test");
        CHECK(other == "REFUSED", "other.test: " + other);
        CHECK_REACH(*guest, "198.18.1.11", 80, Reach::Refused);
        CHECK_REACH(*guest, "198.18.1.53", 53, Reach::Refused); // no way around the forwarder
        return "";
    });
    EXPECT_EQ(outcome, "");
}

TEST_F(SandboxNetworkTest, PublishedPort_ReachesTheGuestFromTheWorld)
{
    auto outcome = in_isolated_host([]() -> std::string {
        StateDirectory state;
        CHECK_OK(build_world());
        auto request = request_for("allow=198.18.1.10:80", state.path);
        request.published = { { 8080, 80 } };
        auto network = SandboxNetwork::create(request);
        CHECK_OK(network);
        auto guest = attach_stand_in_guest(**network, "guest");
        CHECK_OK(guest);
        auto guest_address = to_string((*network)->addresses().guest);
        start_in(*guest, [guest_address] { serve_tcp(guest_address.c_str(), 80, "guest"); });
        start_in(*guest, [guest_address] { serve_tcp(guest_address.c_str(), 81, "unpublished"); });
        CHECK(wait_until_serving(*guest, guest_address.c_str(), 80), "the guest's server did not start");
        CHECK(wait_until_serving(*guest, guest_address.c_str(), 81), "the guest's server did not start");
        auto world = named_netns_path("world");
        CHECK_REACH(world, "198.18.0.1", 8080, Reach::Connected);
        CHECK_REACH(world, guest_address.c_str(), 81, Reach::TimedOut); // no route to the pool
        return "";
    });
    EXPECT_EQ(outcome, "");
}

TEST_F(SandboxNetworkTest, Teardown_LeavesNothingBehind)
{
    auto outcome = in_isolated_host([]() -> std::string {
        CHECK_OK(ip({ "link", "set", "lo", "up" }));
        StateDirectory state;
        auto directory = state.path;
        std::vector<SandboxAddresses> used;
        for (int i = 0; i < 5; ++i) {
            auto network = SandboxNetwork::create(request_for(i % 2 ? "internet" : "allow=a.test", directory));
            CHECK_OK(network);
            used.push_back((*network)->addresses());
        }
        for (auto const& addresses : used)
            CHECK(!sandbox_network_leftovers_exist(addresses), "leftovers of slot " + std::to_string(addresses.slot));
        CHECK(entries("/run/netns").empty(), "a namespace is left");
        CHECK(entries(directory.c_str()).empty(), "a lock file is left");
        CHECK(interface_count() == 1, "an interface is left besides lo");
        return "";
    });
    EXPECT_EQ(outcome, "");
}

TEST_F(SandboxNetworkTest, KilledOwner_IsReapedByTheNextStart)
{
    auto outcome = in_isolated_host([]() -> std::string {
        CHECK_OK(ip({ "link", "set", "lo", "up" }));
        StateDirectory state;
        auto directory = state.path;
        int ready[2];
        CHECK(::pipe(ready) == 0, "pipe");
        pid_t owner = ::fork();
        if (owner == 0) {
            auto network = SandboxNetwork::create(request_for("allow=a.test", directory));
            uint32_t slot = network ? (*network)->addresses().slot : ~0u;
            if (::write(ready[1], &slot, sizeof slot) != sizeof slot)
                ::_exit(1);
            ::pause();
            ::_exit(0);
        }
        uint32_t slot = ~0u;
        CHECK(::read(ready[0], &slot, sizeof slot) == sizeof slot && slot != ~0u, "the owner built no network");
        ::kill(owner, SIGKILL);
        ::waitpid(owner, nullptr, 0);
        auto abandoned = sandbox_addresses(slot);
        CHECK(sandbox_network_leftovers_exist(abandoned), "kill -9 left nothing to reap?");
        auto next = SandboxNetwork::create(request_for("internet", directory));
        CHECK_OK(next);
        CHECK(!sandbox_network_leftovers_exist(abandoned) || (*next)->addresses().slot == slot,
            "the next start did not reap the abandoned network");
        CHECK(processes_in_network_namespace(named_netns_path(abandoned.netns_name())).empty()
                || (*next)->addresses().slot == slot,
            "the dead owner's DNS forwarder survived");
        return "";
    });
    EXPECT_EQ(outcome, "");
}

TEST(SandboxNetworkRefusal, PolicyNone_IsNotANetwork)
{
    SandboxNetworkRequest request;
    auto network = SandboxNetwork::create(request);
    ASSERT_FALSE(network);
    EXPECT_NE(network.error().message.find("none"), std::string::npos);
}
