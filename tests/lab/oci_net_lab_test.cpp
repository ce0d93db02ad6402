// lab_oci_net: husk-oci's NIC in the container engine's network namespace (sdk/oci/
// container_network.hpp), in the lab. A runc-style caller's namespace made here (a veth to the
// lab host, an address and a default route in it, as podman's network backends make them) passed
// in config.json's linux.namespaces: the VM's eth0 gets the address and the MAC, reaches an HTTP
// server on the host side, a server in the container is reached from the host, and `delete`
// gives the namespace back as it was; a namespace with loopback only gives no NIC; and podman's
// own bridge network with --runtime husk-oci (podman run, -p).
#include "tests/lab/oci_lab_support.hpp"
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sched.h>
#include <string>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using husk_oci_lab::Outcome;
using husk_oci_lab::read_text;
using husk_oci_lab::shell;
using husk_oci_lab::write_text;

constexpr char const* netns = "husk-oci-lab-net";
constexpr char const* host_end = "10.211.0.1";
constexpr char const* container_address = "10.211.0.2";

class OciNetLab : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        prctl(PR_SET_CHILD_SUBREAPER, 1); // waitpid() the monitor as conmon does
        s_work = fs::path("/tmp") / ("oci-net-lab-" + std::to_string(getpid()));
        fs::create_directories(s_work / "rootfs/bin");
        fs::copy_file("/bin/busybox", s_work / "rootfs/bin/busybox");
        for (auto const* applet : { "sh", "cat", "sleep", "ls", "wget", "httpd", "ip", "echo", "true", "seq", "test" })
            fs::create_symlink("busybox", s_work / "rootfs/bin" / applet);
        fs::create_directories(s_work / "rootfs/tmp");
        fs::create_directories(s_work / "rootfs/www");
        write_text(s_work / "rootfs/www/in-container.txt", "served from the container\n");
        fs::create_directories(s_work / "host-www");
        write_text(s_work / "host-www/hello.txt", "hello from the host side\n");
    }

    static void TearDownTestSuite()
    {
        std::error_code ignored;
        fs::remove_all(s_work, ignored);
    }

    void TearDown() override
    {
        if (m_server > 0) {
            kill(m_server, SIGTERM);
            waitpid(m_server, nullptr, 0);
        }
        shell("ip netns del " + std::string(netns));
        shell("ip link del hl-host");
    }

    // What podman's bridge backends leave in a container's namespace: eth0 (a veth whose peer is
    // on the host side) with an address and a default route, and loopback.
    void make_engine_namespace(bool with_interface)
    {
        shell("ip netns del " + std::string(netns));
        ASSERT_EQ(shell("ip netns add " + std::string(netns)).status, 0);
        ASSERT_EQ(shell("ip -n " + std::string(netns) + " link set lo up").status, 0);
        if (!with_interface)
            return;
        auto made = shell("ip link add hl-host type veth peer name eth0 netns " + std::string(netns)
            + " && ip addr add " + host_end + "/24 dev hl-host && ip link set hl-host up && ip -n " + netns
            + " addr add " + container_address + "/24 dev eth0 && ip -n " + netns + " link set eth0 up && ip -n "
            + netns + " route add default via " + host_end);
        ASSERT_EQ(made.status, 0) << made.output;
    }

    std::string in_namespace(std::string const& command)
    {
        return shell("ip -n " + std::string(netns) + " " + command).output;
    }

    fs::path bundle(std::string const& name, std::string const& script)
    {
        auto path = s_work / name;
        fs::create_directories(path);
        fs::create_symlink(s_work / "rootfs", path / "rootfs");
        write_text(path / "config.json",
            R"({"ociVersion":"1.0.2","process":{"args":["sh","-c",")" + script
                + R"("],"env":["PATH=/bin"],"cwd":"/","user":{"uid":0,"gid":0}},"root":{"path":"rootfs"},)"
                + R"("hostname":"net-lab","annotations":{"io.husk.memory":"128M"},)"
                + R"("linux":{"namespaces":[{"type":"pid"},{"type":"network","path":"/run/netns/)" + netns
                + R"("},{"type":"mount"}]}})");
        return path;
    }

    std::string oci(std::string const& arguments)
    {
        return std::string(HUSK_OCI_PATH) + " --root " + (s_work / "state").string() + " --log "
            + (s_work / "log.json").string() + " --log-format json " + arguments;
    }

    Outcome create(std::string const& id, fs::path const& bundle_path)
    {
        auto out = s_work / (id + ".out");
        auto outcome = shell(oci("create --bundle " + bundle_path.string() + " --pid-file "
                                 + (s_work / (id + ".pid")).string() + " " + id)
            + " < /dev/null > " + out.string());
        outcome.output += read_text(out) + read_text(s_work / "log.json");
        return outcome;
    }

    pid_t monitor_of(std::string const& id) { return static_cast<pid_t>(std::stol(read_text(s_work / (id + ".pid")))); }

    int wait_status(pid_t pid)
    {
        int status = 0;
        if (waitpid(pid, &status, 0) != pid)
            return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

    // busybox httpd on the lab host at `where` (ADDRESS:PORT or PORT), serving host-www.
    void serve_on_host_side(std::string const& where = std::string(host_end) + ":8080")
    {
        m_server = fork();
        if (m_server == 0) {
            execl("/bin/busybox", "busybox", "httpd", "-f", "-p", where.c_str(), "-h", (s_work / "host-www").c_str(),
                static_cast<char*>(nullptr));
            _exit(127);
        }
        std::this_thread::sleep_for(300ms);
    }

    // The host fetching `url` until it answers (the guest may still be starting its server).
    static Outcome fetch_from_host(std::string const& url)
    {
        Outcome fetched;
        for (int attempt = 0; attempt < 60; ++attempt) {
            fetched = shell("wget -q -T 5 -O- " + url);
            if (fetched.status == 0)
                break;
            std::this_thread::sleep_for(1s);
        }
        return fetched;
    }

    static inline fs::path s_work;
    pid_t m_server { -1 };
};

TEST_F(OciNetLab, EngineNamespace_TheVmTakesTheAddressAndMacAndDeleteGivesThemBack)
{
    make_engine_namespace(true);
    auto eth0_before = in_namespace("link show eth0");
    auto eth0_mac = eth0_before.substr(eth0_before.find("link/ether ") + 11, 17);
    serve_on_host_side();

    // The container fetches from the host side, then serves until the host fetched from it.
    auto path = bundle("engine",
        "cat /sys/class/net/eth0/address; wget -q -O- http://" + std::string(host_end)
            + ":8080/hello.txt; httpd -p 8081 -h /www; for i in $(seq 600); do test -e /www/fetched && exit 0; sleep "
              "0.2; done; exit 9");
    auto created = create("net", path);
    ASSERT_EQ(created.status, 0) << created.output;
    pid_t monitor = monitor_of("net");
    // Created: the address is the VM's now, eth0 a port of the bridge with the tap.
    EXPECT_EQ(in_namespace("-4 addr show dev eth0").find(container_address), std::string::npos)
        << in_namespace("-4 addr show dev eth0");
    EXPECT_NE(in_namespace("link show husk-tap0").find("master husk-br0"), std::string::npos)
        << in_namespace("link show");
    EXPECT_NE(in_namespace("link show eth0").find("master husk-br0"), std::string::npos);

    ASSERT_EQ(shell(oci("start net")).status, 0);
    auto fetched = fetch_from_host("http://" + std::string(container_address) + ":8081/in-container.txt");
    EXPECT_EQ(fetched.output, "served from the container\n") << "the host reaches the container's server";
    write_text(s_work / "rootfs/www/fetched", ""); // the guest's /tmp is its own tmpfs
    EXPECT_EQ(wait_status(monitor), 0);
    auto output = read_text(s_work / "net.out");
    EXPECT_NE(output.find(eth0_mac + "\n"), std::string::npos) << "the guest has eth0's MAC: " << output;
    EXPECT_NE(output.find("hello from the host side\n"), std::string::npos) << output;

    auto deleted = shell(oci("delete net"));
    EXPECT_EQ(deleted.status, 0) << deleted.output;
    auto links = in_namespace("link show");
    EXPECT_EQ(links.find("husk-br0"), std::string::npos) << links;
    EXPECT_EQ(links.find("husk-tap0"), std::string::npos) << links;
    EXPECT_NE(in_namespace("-4 addr show dev eth0").find(std::string(container_address) + "/24"), std::string::npos)
        << in_namespace("-4 addr show dev eth0");
    EXPECT_NE(in_namespace("route show default").find(std::string("via ") + host_end), std::string::npos);
    EXPECT_NE(in_namespace("link show eth0").find(eth0_mac), std::string::npos) << "eth0 has its own MAC back";
}

TEST_F(OciNetLab, LoopbackOnlyNamespace_GivesNoNic)
{
    make_engine_namespace(false);
    auto path = bundle("none", "ls /sys/class/net");
    auto created = create("none", path);
    ASSERT_EQ(created.status, 0) << created.output;
    pid_t monitor = monitor_of("none");
    ASSERT_EQ(shell(oci("start none")).status, 0);
    EXPECT_EQ(wait_status(monitor), 0);
    EXPECT_EQ(read_text(s_work / "none.out"), "lo\n");
    EXPECT_EQ(in_namespace("link show").find("husk-"), std::string::npos) << in_namespace("link show");
    EXPECT_EQ(shell(oci("delete none")).status, 0);
}

TEST_F(OciNetLab, NamespaceAlreadyHoldingANic_IsRefusedAndLeftAlone)
{
    make_engine_namespace(true);
    auto path = bundle("first", "sleep 30");
    ASSERT_EQ(create("first", path).status, 0);
    pid_t monitor = monitor_of("first");
    auto second = create("second", bundle("second", "true"));
    EXPECT_NE(second.status, 0);
    EXPECT_NE(second.output.find("a pod"), std::string::npos) << second.output;
    EXPECT_NE(in_namespace("link show husk-tap0").find("master husk-br0"), std::string::npos)
        << "the first container's NIC stays";
    EXPECT_EQ(shell(oci("delete --force first")).status, 0);
    EXPECT_EQ(wait_status(monitor), 128 + SIGKILL);
    EXPECT_NE(in_namespace("-4 addr show dev eth0").find(container_address), std::string::npos);
}

// podman's own bridge network (CNI here: the lab host has no netavark) with --runtime husk-oci.
// The network is a conflist of the test's own (bridge and host-local, and portmap for `-p`;
// without ipMasq and firewall, which nothing here needs), in a private mount namespace where
// /var/lib is writable for CNI's cache (the lab's root is read-only).
class PodmanNetLab : public OciNetLab {
protected:
    static void SetUpTestSuite()
    {
        OciNetLab::SetUpTestSuite();
        ASSERT_EQ(unshare(CLONE_NEWNS), 0);
        ASSERT_EQ(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
        fs::create_directories(s_work / "var-lib/upper");
        fs::create_directories(s_work / "var-lib/work");
        auto overlay = "lowerdir=/var/lib,upperdir=" + (s_work / "var-lib/upper").string()
            + ",workdir=" + (s_work / "var-lib/work").string();
        ASSERT_EQ(mount("overlay", "/var/lib", "overlay", 0, overlay.c_str()), 0) << strerror(errno);
        fs::create_directories(s_work / "cni");
        write_text(s_work / "cni/husk-lab.conflist",
            R"({"cniVersion":"0.4.0","name":"husklab","plugins":[{"type":"bridge","bridge":"cni-husklab0",)"
            R"("isGateway":true,"ipMasq":false,"hairpinMode":true,"ipam":{"type":"host-local","routes":)"
            R"([{"dst":"0.0.0.0/0"}],"ranges":[[{"subnet":"10.89.0.0/24","gateway":"10.89.0.1"}]]}},)"
            R"({"type":"portmap","capabilities":{"portMappings":true}}]})");
        auto tar = s_work / "rootfs.tar";
        ASSERT_EQ(shell("tar -C " + (s_work / "rootfs").string() + " -cf " + tar.string() + " .").status, 0);
        auto imported = shell(podman("import " + tar.string() + " localhost/husk-oci-net-lab:latest"));
        ASSERT_EQ(imported.status, 0) << "podman itself does not work in the lab: " << imported.output;
    }

    static std::string podman(std::string const& arguments)
    {
        return "podman --root " + (s_work / "podman/root").string() + " --runroot " + (s_work / "podman/run").string()
            + " --storage-driver vfs --cgroup-manager cgroupfs --events-backend none --network-config-dir "
            + (s_work / "cni").string() + " --runtime " + HUSK_OCI_PATH + " " + arguments;
    }

    static int count_vmms()
    {
        auto found = shell(
            "for i in $(seq 100); do pgrep -x husk-vmm >/dev/null || break; sleep 0.1; done; pgrep -c -x husk-vmm");
        return std::atoi(found.output.c_str());
    }
};

// The container reaching the host first: its ARP request is the first frame, which the
// bridge's hairpin port sends back into the namespace (see container_network.cpp).
TEST_F(PodmanNetLab, BridgeNetwork_TheContainerReachesTheHostAndIsReachedAtItsAddress)
{
    serve_on_host_side("8080");
    auto run = shell(podman("run --rm --network husklab localhost/husk-oci-net-lab sh -c "
                            "'ls /sys/class/net; wget -q -O- http://10.89.0.1:8080/hello.txt'"));
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_NE(run.output.find("eth0\nlo\n"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("hello from the host side\n"), std::string::npos) << run.output;

    auto started
        = shell(podman("run -d --name web --network husklab localhost/husk-oci-net-lab httpd -f -p 8081 -h /www"));
    ASSERT_EQ(started.status, 0) << started.output;
    auto address = shell(podman("inspect --format '{{.NetworkSettings.Networks.husklab.IPAddress}}' web"));
    auto mac = shell(podman("inspect --format '{{.NetworkSettings.Networks.husklab.MacAddress}}' web"));
    auto ip = address.output.substr(0, address.output.find('\n'));
    ASSERT_TRUE(ip.starts_with("10.89.0.")) << address.output;
    EXPECT_EQ(fetch_from_host("http://" + ip + ":8081/in-container.txt").output, "served from the container\n");
    auto guest_mac = shell(podman("exec web cat /sys/class/net/eth0/address"));
    EXPECT_EQ(guest_mac.output, mac.output) << "the guest has the MAC podman gave the container";
    auto removed = shell(podman("rm -f web"));
    EXPECT_EQ(removed.status, 0) << removed.output;
    EXPECT_EQ(count_vmms(), 0);
    EXPECT_EQ(shell("ls /run/netns 2>/dev/null | grep -c . || true").output, "0\n") << "podman removed its namespaces";
}

// `podman run -p HOST:CTR`: CNI's portmap plugin turns the host's port into a DNAT to the
// container's address, which the VM holds; nothing of husk-oci's is involved. Reached from the lab
// host at the bridge's address and at 127.0.0.1 (portmap masquerades that one).
TEST_F(PodmanNetLab, PublishedPort_ReachesTheServerInTheVm)
{
    auto started = shell(podman("run -d --name published --network husklab -p 8090:8081 "
                                "localhost/husk-oci-net-lab httpd -f -p 8081 -h /www"));
    ASSERT_EQ(started.status, 0) << started.output;
    EXPECT_EQ(fetch_from_host("http://10.89.0.1:8090/in-container.txt").output, "served from the container\n");
    EXPECT_EQ(fetch_from_host("http://127.0.0.1:8090/in-container.txt").output, "served from the container\n");
    auto removed = shell(podman("rm -f published"));
    EXPECT_EQ(removed.status, 0) << removed.output;
    EXPECT_EQ(count_vmms(), 0);
    auto rules = shell("iptables -t nat -S");
    EXPECT_EQ(rules.output.find("8090"), std::string::npos) << "portmap removed its rule: " << rules.output;
}

TEST_F(PodmanNetLab, NetworkNone_HasNoEth0)
{
    auto run = shell(podman("run --rm --network none localhost/husk-oci-net-lab ls /sys/class/net"));
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_EQ(run.output, "lo\n");
}

} // namespace
