// Lab: networking without root. `husk run --net internet` as an unprivileged user (nobody, via
// setpriv) gets its network from passt (sdk/src/passt_network.hpp) through husk-vmm's
// --net-stream and a real guest. The test process runs in a network namespace of its own, the
// "host": its uplink is a veth (198.18.0.1/24, default route via 198.18.0.2; passt takes its
// outbound interface from the default route) to a "world" namespace with an HTTP server on
// 198.18.0.2:8080. A host service listens on 127.0.0.1:8081 only. The guest fetches with
// busybox wget.
#include "runtime/net/network_namespace.hpp"
#include "tests/unit/runtime/net/net_test_world.hpp"

#include <array>
#include <cstdio>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <thread>

using namespace husk;
using namespace husk::testing_net;
using namespace std::chrono_literals;

namespace {

constexpr char const* host_address = "198.18.0.1";
constexpr char const* world_address = "198.18.0.2";
constexpr char const* nobody = "65534";
// The build's assets link into root's cache, which nobody may not enter: copies for the user.
constexpr char const* user_assets = "/tmp/husk-lab-passt-assets";

struct CliRun {
    int status { -1 };
    std::string out;
};

// The husk CLI as nobody, its stdout and stderr together.
CliRun husk_run_as_user(std::string const& arguments)
{
    std::string command = std::string("setpriv --reuid=") + nobody + " --regid=" + nobody
        + " --clear-groups -- env TMPDIR=/tmp HOME=/tmp HUSK_ASSETS_DIR=" + user_assets + " " + HUSK_CLI_PATH + " run "
        + arguments + " 2>&1";
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

TEST_F(LabPasst, HuskRunAsUser_NetInternet_FetchesFromTheWorldThroughPasst)
{
    // busybox wget (1.35) crashes with -T in this guest: no timeout option here.
    auto run = husk_run_as_user(std::string("-q --net internet -- sh -c 'wget -q -O - http://") + world_address
        + ":8080/; echo wget-exit $?'");
    EXPECT_EQ(run.status, 0) << run.out;
    EXPECT_NE(run.out.find("hello-from-the-world"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("wget-exit 0"), std::string::npos) << run.out;
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

TEST_F(LabPasst, HuskRunAsUser_GuestEth0HasPasstsAddress)
{
    auto run = husk_run_as_user("-q --net internet -- sh -c 'ip -4 addr show eth0 || ifconfig eth0'");
    EXPECT_EQ(run.status, 0) << run.out;
    EXPECT_NE(run.out.find("10.0.2.15"), std::string::npos) << run.out;
}

TEST_F(LabPasst, HuskRunAsUser_AllowList_RefusedNotOpened)
{
    auto run = husk_run_as_user("-q --net allow=198.18.0.1:8080 -- true");
    EXPECT_EQ(run.status, 125) << run.out;
    EXPECT_NE(run.out.find("cannot be enforced"), std::string::npos) << run.out;
    EXPECT_TRUE(processes_named("passt").empty());
}

} // namespace
