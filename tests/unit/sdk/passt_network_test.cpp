// The network of an unjailed sandbox: passt's command line, what is refused without a policy,
// the guest's addresses, and real passt (as root, in a namespace of the test's own) answering
// an ARP request for the gateway over its length-prefixed socket protocol.
#include "runtime/base/fd.hpp"
#include "runtime/net/host_command.hpp"
#include "sdk/src/passt_network.hpp"
#include "tests/unit/runtime/net/net_test_world.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cstdlib>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <thread>

namespace husk::detail {
namespace {

    bool contains_sequence(std::vector<std::string> const& argv, std::vector<std::string> const& sequence)
    {
        return std::search(argv.begin(), argv.end(), sequence.begin(), sequence.end()) != argv.end();
    }

    TEST(PasstNetwork, AllowList_RefusedWithAReason)
    {
        SandboxOptions options;
        options.network = "allow=198.51.100.0/24:443";
        auto checked = check_passt_network(options);
        ASSERT_FALSE(checked);
        EXPECT_EQ(checked.error().kind, ErrorKind::BadConfig);
        EXPECT_NE(checked.error().message.find("cannot be enforced"), std::string::npos) << checked.error().message;
        options.network = "internet";
        EXPECT_TRUE(check_passt_network(options));
    }

    TEST(PasstNetwork, Argv_FixedAddressesNoGatewayMappingNoIpv6Configuration)
    {
        SandboxOptions options;
        options.network = "internet";
        auto argv = passt_argv("/usr/bin/passt", 4, options);
        EXPECT_EQ(argv[0], "/usr/bin/passt");
        for (auto const& expected : std::vector<std::vector<std::string>> { { "--fd", "4" }, { "--foreground" },
                 { "--no-ra" }, { "--no-dhcpv6" }, { "--no-ndp" }, { "--address", passt_guest_address },
                 { "--netmask", "24" }, { "--gateway", passt_gateway }, { "--dns-forward", passt_dns }, { "--no-map-gw" } })
            EXPECT_TRUE(contains_sequence(argv, expected)) << expected[0];
        EXPECT_FALSE(contains_sequence(argv, { "--ipv4-only" })); // crashes bookworm's passt
        EXPECT_FALSE(contains_sequence(argv, { "--tcp-ports" }));
        EXPECT_FALSE(contains_sequence(argv, { "--dns" }));
    }

    TEST(PasstNetwork, Argv_PublishedPortsAndDnsServers)
    {
        SandboxOptions options;
        options.network = "internet";
        options.publish = { { 8080, 80 }, { 2222, 22 } };
        options.dns_servers = { "192.0.2.53" };
        auto argv = passt_argv("passt", 4, options);
        EXPECT_TRUE(contains_sequence(argv, { "--tcp-ports", "8080:80,2222:22" }));
        // The guest asks dns_servers itself: bookworm's passt would forward to resolv.conf's.
        EXPECT_FALSE(contains_sequence(argv, { "--dns-forward" }));
        EXPECT_FALSE(contains_sequence(argv, { "--dns" }));
    }

    TEST(PasstNetwork, GuestKernelArguments_MatchPasstsAddresses)
    {
        SandboxOptions options;
        options.network = "internet";
        EXPECT_EQ(passt_guest_kernel_arguments(options), "husk.ip=10.0.2.15/24 husk.gw=10.0.2.2 husk.dns=10.0.2.3");
        EXPECT_TRUE(contains_sequence(passt_argv("passt", 4, options), { "--dns-forward", passt_dns }));
    }

    TEST(PasstNetwork, GuestKernelArguments_DnsServersGoToTheGuestThreeAtMost)
    {
        SandboxOptions options;
        options.network = "internet";
        options.dns_servers = { "192.0.2.53" };
        EXPECT_EQ(passt_guest_kernel_arguments(options), "husk.ip=10.0.2.15/24 husk.gw=10.0.2.2 husk.dns=192.0.2.53");
        options.dns_servers = { "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4" };
        EXPECT_EQ(passt_guest_kernel_arguments(options),
            "husk.ip=10.0.2.15/24 husk.gw=10.0.2.2 husk.dns=192.0.2.1,192.0.2.2,192.0.2.3");
    }

    TEST(PasstNetwork, LoopbackDnsServer_RefusedWithAReason)
    {
        SandboxOptions options;
        options.network = "internet";
        options.dns_servers = { "192.0.2.53", "127.0.0.53" };
        auto checked = check_passt_network(options);
        ASSERT_FALSE(checked);
        EXPECT_EQ(checked.error().kind, ErrorKind::BadConfig);
        EXPECT_NE(checked.error().message.find("127.0.0.53 is this host's loopback"), std::string::npos)
            << checked.error().message;
    }

    TEST(PasstNetwork, FindPasst_HonoursHuskPasst)
    {
        ::setenv("HUSK_PASST", "/opt/passt/bin/passt", 1);
        auto found = find_passt();
        ::unsetenv("HUSK_PASST");
        ASSERT_TRUE(found);
        EXPECT_EQ(*found, "/opt/passt/bin/passt");
        auto saved = std::getenv("PATH") ? std::string(std::getenv("PATH")) : std::string();
        ::setenv("PATH", "/nonexistent", 1);
        auto missing = find_passt();
        ::setenv("PATH", saved.c_str(), 1);
        ASSERT_FALSE(missing);
        EXPECT_NE(missing.error().message.find("Debian package passt"), std::string::npos);
    }

    std::string probe_real_passt(std::string const& passt)
    {
        // A host side for passt to take its outbound interface from: a veth with a default route.
        auto ip = find_host_tool("ip", "iproute2");
        if (!ip)
            return ip.error().message;
        for (auto const& command : std::vector<std::vector<std::string>> { { *ip, "link", "set", "lo", "up" },
                 { *ip, "link", "add", "up0", "type", "veth", "peer", "name", "up1" },
                 { *ip, "addr", "add", "198.18.0.1/24", "dev", "up0" }, { *ip, "link", "set", "up0", "up" },
                 { *ip, "link", "set", "up1", "up" }, { *ip, "route", "add", "default", "via", "198.18.0.254" } }) {
            if (auto ran = run_host_command(command); !ran)
                return ran.error().message;
        }
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
            return "socketpair failed";
        Fd ours(pair[0]);
        Fd theirs(pair[1]);
        SandboxOptions options;
        options.network = "internet";
        auto argv = passt_argv(passt, theirs.get(), options);
        std::vector<char*> raw;
        for (auto& argument : argv)
            raw.push_back(argument.data());
        raw.push_back(nullptr);
        pid_t child = ::fork();
        if (child == 0) {
            ::dup2(::open("/dev/null", O_WRONLY), STDERR_FILENO); // passt's chatter stays out of the test log
            ::fcntl(theirs.get(), F_SETFD, 0);
            ::execv(raw[0], raw.data());
            ::_exit(127);
        }
        theirs.reset();
        std::string outcome;
        if (auto probed = probe_passt(ours.get(), random_guest_mac(), std::chrono::steady_clock::now() + std::chrono::seconds(5));
            !probed)
            outcome = probed.error().message;
        // --fd implies --one-off: closing our end makes passt exit by itself.
        ours.reset();
        int status = 0;
        for (int i = 0; i < 200 && ::waitpid(child, &status, WNOHANG) == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (::waitpid(child, &status, WNOHANG) == 0) {
            ::kill(child, SIGKILL);
            ::waitpid(child, &status, 0);
            if (outcome.empty())
                outcome = "passt did not exit when its socket closed";
        }
        return outcome;
    }

    TEST(PasstNetwork, Probe_PeerThatCloses_FailsSayingSo)
    {
        int pair[2];
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
        Fd ours(pair[0]);
        ::close(pair[1]);
        auto probed = probe_passt(ours.get(), random_guest_mac(), std::chrono::steady_clock::now() + std::chrono::seconds(1));
        ASSERT_FALSE(probed);
    }

    TEST(PasstNetwork, Probe_PeerThatAnswersGarbage_Fails)
    {
        int pair[2];
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
        Fd ours(pair[0]);
        Fd theirs(pair[1]);
        uint8_t const zero_length[] { 0, 0, 0, 0 };
        ASSERT_EQ(::send(theirs.get(), zero_length, sizeof zero_length, 0), 4);
        auto probed = probe_passt(ours.get(), random_guest_mac(), std::chrono::steady_clock::now() + std::chrono::seconds(1));
        ASSERT_FALSE(probed);
        EXPECT_NE(probed.error().message.find("frame length of 0"), std::string::npos) << probed.error().message;
    }

    TEST(PasstNetwork, Probe_SilentPeer_TimesOut)
    {
        int pair[2];
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
        Fd ours(pair[0]);
        Fd theirs(pair[1]);
        auto probed = probe_passt(ours.get(), random_guest_mac(), std::chrono::steady_clock::now() + std::chrono::milliseconds(50));
        ASSERT_FALSE(probed);
        EXPECT_EQ(probed.error().kind, ErrorKind::GuestNotReady);
    }

    TEST(PasstNetwork, RandomGuestMac_LocallyAdministeredUnicast)
    {
        for (int i = 0; i < 16; ++i) {
            auto mac = random_guest_mac();
            EXPECT_EQ(mac[0] & 0x03, 0x02);
            EXPECT_EQ(format_mac(mac).size(), 17u);
        }
        EXPECT_EQ(format_mac({ 0x02, 0xab, 0, 1, 0x10, 0xff }), "02:ab:00:01:10:ff");
    }

    TEST(PasstNetwork, RealPasst_AnswersArpForTheGatewayAndExitsWithItsSocket)
    {
        if (::geteuid() != 0)
            GTEST_SKIP() << "SKIPPING: needs root for a network namespace of the test's own";
        auto passt = find_passt();
        ASSERT_TRUE(passt) << passt.error().message; // packaging/setup.sh installs it
        auto outcome = testing_net::in_isolated_host([&] { return probe_real_passt(*passt); });
        EXPECT_EQ(outcome, "");
    }

} // namespace
} // namespace husk::detail
