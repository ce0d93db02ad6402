// Lab: snapshots of sandboxes with a network (docs/snapshots.md, "A clone's network"). One
// sandbox on an allow-list boots once and is snapshotted; two clones restored from it at once each
// get a network of their own (namespace, tap, addresses, the policy their restore options give)
// and the agent moves their eth0 to it. The "world" (tests/unit/runtime/net/net_test_world.hpp)
// serves TCP on 198.18.1.10:80, :81 and 198.18.1.11:80; guests probe with busybox nc.
#include "husk/husk.hpp"
#include "tests/lab/guest_probe_script.hpp"
#include "tests/lab/sdk_lab_support.hpp"
#include "tests/unit/runtime/net/net_test_world.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <gtest/gtest.h>
#include <optional>
#include <regex>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using husk_lab::lab_options;
using husk_lab::run_ok;

bool says(std::string const& output, std::string const& line) { return output.find(line) != std::string::npos; }

// eth0's IPv4 address, from busybox's `ip` (or ifconfig's "inet addr:").
std::string address_of(husk::Sandbox& sandbox)
{
    auto out = run_ok(sandbox, "ip -4 addr show eth0 2>/dev/null || ifconfig eth0");
    std::smatch match;
    if (!std::regex_search(out, match, std::regex("inet (addr:)?([0-9.]+)"))) {
        ADD_FAILURE() << "no IPv4 address on eth0: " << out;
        return "none";
    }
    return match[2];
}

husk::SandboxOptions networked(std::string const& policy)
{
    auto options = lab_options();
    options.network = policy;
    options.boot_timeout = 180s; // jailed, with a network to build, on a lab that may be shared
    return options;
}

class SnapshotNetLab : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        auto world = husk::testing_net::build_world();
        ASSERT_TRUE(world) << world.error().message;
        directory = fs::temp_directory_path() / ("husk-snapshot-net-lab-" + std::to_string(::getpid()));
        auto booting = std::chrono::steady_clock::now();
        auto created = husk::Sandbox::create(networked("allow=198.18.1.10:80"));
        ASSERT_TRUE(created) << created.error().message;
        std::printf("networked sandbox booted to agent-ready in %lld ms\n",
            static_cast<long long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - booting)
                    .count()));
        original.emplace(std::move(*created));
        // The guest has talked to its gateway (its ARP cache holds it) before the snapshot.
        EXPECT_TRUE(says(run_ok(*original, husk_lab::guest_probe_script({ "198.18.1.10:80" })), "198.18.1.10:80 open"));
        original_address = address_of(*original);
        auto taken = std::chrono::steady_clock::now();
        auto snapshot = original->snapshot(directory);
        ASSERT_TRUE(snapshot) << snapshot.error().message;
        std::printf("snapshot of a networked guest taken in %lld ms\n",
            static_cast<long long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - taken)
                    .count()));
        // The original keeps its network (and its slot, so no clone can get its addresses).
    }
    static void TearDownTestSuite()
    {
        if (original)
            (void)original->shutdown();
        original.reset();
        std::error_code ignored;
        fs::remove_all(directory, ignored);
    }

    static inline std::string directory;
    static inline std::optional<husk::Sandbox> original;
    static inline std::string original_address;
};

std::optional<husk::Sandbox> restore(std::string const& directory, std::string const& policy)
{
    auto started = std::chrono::steady_clock::now();
    auto sandbox = husk::Sandbox::restore(directory, networked(policy));
    if (!sandbox) {
        ADD_FAILURE() << husk::error_kind_name(sandbox.error().kind) << ": " << sandbox.error().message;
        return std::nullopt;
    }
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    std::printf("networked clone restored to agent-ready (network built, eth0 moved) in %lld ms\n",
        static_cast<long long>(took.count()));
    return std::move(*sandbox);
}

TEST_F(SnapshotNetLab, TwoClonesAtOnce_EachOnItsOwnNetworkWithItsOwnPolicy)
{
    // Restored at the same time, each with the policy its restore gives (B's differs).
    std::optional<husk::Sandbox> a;
    std::optional<husk::Sandbox> b;
    std::thread restoring_b([&] { b = restore(directory, "allow=198.18.1.11:80"); });
    a = restore(directory, "allow=198.18.1.10:80");
    restoring_b.join();
    ASSERT_TRUE(a && b);

    auto a_address = address_of(*a);
    auto b_address = address_of(*b);
    EXPECT_NE(a_address, b_address);
    EXPECT_NE(a_address, original_address);
    EXPECT_NE(b_address, original_address);
    EXPECT_TRUE(a_address.starts_with("10.231.")) << a_address;
    std::printf(
        "snapshot's guest %s; clones %s and %s\n", original_address.c_str(), a_address.c_str(), b_address.c_str());

    // The sandbox's rules drop anything not sent from the clone's own address: a reply at all
    // means the clone sent from it.
    auto a_probes = run_ok(*a,
        husk_lab::guest_probe_script(
            { "198.18.1.10:80", "198.18.1.10:81", "198.18.1.11:80", b_address + ":80", original_address + ":80" }));
    EXPECT_TRUE(says(a_probes, "198.18.1.10:80 open")) << a_probes;
    EXPECT_TRUE(says(a_probes, "198.18.1.10:81 closed")) << a_probes;
    EXPECT_TRUE(says(a_probes, "198.18.1.11:80 closed")) << a_probes;
    EXPECT_TRUE(says(a_probes, b_address + ":80 closed")) << a_probes;
    EXPECT_TRUE(says(a_probes, original_address + ":80 closed")) << a_probes;
    auto b_probes = run_ok(*b, husk_lab::guest_probe_script({ "198.18.1.11:80", "198.18.1.10:80", a_address + ":80" }));
    EXPECT_TRUE(says(b_probes, "198.18.1.11:80 open")) << b_probes;
    EXPECT_TRUE(says(b_probes, "198.18.1.10:80 closed")) << b_probes;
    EXPECT_TRUE(says(b_probes, a_address + ":80 closed")) << b_probes;

    // The snapshot's gateway and neighbours are gone from each clone: only its own gateway (and
    // nothing of the other clone) is in its ARP table, and the default route is its own.
    for (auto* clone : { &*a, &*b }) {
        auto arp = run_ok(*clone, "cat /proc/net/arp; ip route 2>/dev/null || route -n");
        auto own = address_of(*clone);
        auto gateway
            = own.substr(0, own.rfind('.') + 1) + std::to_string(std::stoi(own.substr(own.rfind('.') + 1)) - 1);
        auto old_gateway = original_address.substr(0, original_address.rfind('.') + 1)
            + std::to_string(std::stoi(original_address.substr(original_address.rfind('.') + 1)) - 1);
        EXPECT_TRUE(says(arp, gateway)) << arp;
        EXPECT_FALSE(says(arp, old_gateway + " ")) << arp;
        EXPECT_FALSE(says(arp, (clone == &*a ? b_address : a_address) + " ")) << arp;
    }

    // The original, still running, kept its own network.
    auto original_probes = run_ok(*original, husk_lab::guest_probe_script({ "198.18.1.10:80" }));
    EXPECT_TRUE(says(original_probes, "198.18.1.10:80 open")) << original_probes;
}

TEST_F(SnapshotNetLab, RestoreWithoutANetwork_IsRefusedNamingTheDevices)
{
    auto options = lab_options();
    auto refused = husk::Sandbox::restore(directory, options);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, husk::ErrorKind::BadConfig);
    EXPECT_NE(refused.error().message.find("virtio-net"), std::string::npos) << refused.error().message;
}

} // namespace
