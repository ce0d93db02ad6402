// bench/vsock: the job channel's throughput and latency through husk-vmm's virtio-vsock (hybrid
// vsock over a unix socket, io_uring backend) against QEMU microvm's vhost-vsock (AF_VSOCK on the
// host), measured the same way in the same run: the same kernel, initramfs and guest agent
// (husk-init), the same client (libhusk on the connected stream), alternating peers each round.
//
//   latency      Ping -> Pong round trips on an idle connection
//   guest->host  `head -c N /dev/zero` in the guest, its stdout streamed to the host
//   host->guest  N bytes of stdin streamed to `cat > /dev/null` in the guest
//
// Throughput includes the agent's and the protocol's work on both ends (identical for both
// peers), so the ratio compares the VMMs' vsock paths.
#include "bench/common/bench_arguments.hpp"
#include "bench/common/peer_vm.hpp"
#include "guest-init/protocol/agent_port.hpp"
#include "husk/husk.hpp"
#include "sdk/src/sandbox_state.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <linux/vm_sockets.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace husk::bench;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t qemu_guest_cid = 42;
constexpr auto boot_timeout = 90s; // TCG-nested boots are slow
constexpr int pings_per_round = 100;

struct Options {
    VmImages images;
    int rounds = 5;
    uint64_t bytes = 32ull << 20;
};

struct Samples {
    std::vector<double> rtt_us, to_host_mib_s, to_guest_mib_s;
};

double mib_per_second(uint64_t bytes, std::chrono::microseconds elapsed)
{
    return static_cast<double>(bytes) / (1 << 20) / (static_cast<double>(elapsed.count()) / 1e6);
}

// One round on a ready sandbox. False (with a message) when something failed.
bool measure(husk::Sandbox& sandbox, Options const& options, Samples& samples, char const* peer)
{
    for (int i = 0; i < pings_per_round; ++i) {
        auto start = Clock::now();
        if (auto pong = sandbox.ping(10s); !pong) {
            std::fprintf(stderr, "%s: ping: %s\n", peer, pong.error().message.c_str());
            return false;
        }
        samples.rtt_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }

    husk::RunOptions to_host;
    to_host.output_limit_bytes = options.bytes + 1;
    auto start = Clock::now();
    auto out = sandbox.run({ "head", "-c", std::to_string(options.bytes), "/dev/zero" }, to_host);
    auto to_host_time = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    if (!out || !out->ok() || out->stdout_data.size() != options.bytes) {
        std::fprintf(stderr, "%s: guest->host run failed: %s\n", peer,
            out ? ("exit " + std::to_string(out->exit_code) + ", " + std::to_string(out->stdout_data.size()) + " bytes").c_str()
                : out.error().message.c_str());
        return false;
    }
    samples.to_host_mib_s.push_back(mib_per_second(options.bytes, to_host_time));

    husk::RunOptions to_guest;
    to_guest.stdin_data.assign(options.bytes, 'x');
    start = Clock::now();
    auto in = sandbox.run_shell("cat > /dev/null", to_guest);
    auto to_guest_time = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    if (!in || !in->ok()) {
        std::fprintf(stderr, "%s: host->guest run failed: %s\n", peer, in ? in->stderr_data.c_str() : in.error().message.c_str());
        return false;
    }
    samples.to_guest_mib_s.push_back(mib_per_second(options.bytes, to_guest_time));
    return true;
}

bool husk_round(Options const& options, Samples& samples)
{
    husk::SandboxOptions sandbox_options;
    sandbox_options.vmm_path = options.images.vmm;
    sandbox_options.kernel_path = options.images.kernel;
    sandbox_options.initrd_path = options.images.initrd;
    sandbox_options.memory_bytes = options.images.memory_mib << 20;
    sandbox_options.boot_timeout = boot_timeout;
    auto sandbox = husk::Sandbox::create(sandbox_options);
    if (!sandbox) {
        std::fprintf(stderr, "husk: %s\n", sandbox.error().message.c_str());
        return false;
    }
    bool measured = measure(*sandbox, options, samples, "husk");
    (void)sandbox->shutdown();
    return measured;
}

husk::Result<husk::Fd> connect_vsock(uint32_t cid, uint32_t port, Clock::time_point deadline)
{
    while (true) {
        int fd = ::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return husk::fail_errno("socket(AF_VSOCK) (is vhost_vsock loaded?)");
        husk::Fd socket(fd);
        sockaddr_vm address {};
        address.svm_family = AF_VSOCK;
        address.svm_cid = cid;
        address.svm_port = port;
        if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0)
            return socket;
        if (Clock::now() >= deadline)
            return husk::fail_errno("connect to vsock " + std::to_string(cid) + ":" + std::to_string(port));
        std::this_thread::sleep_for(50ms);
    }
}

bool qemu_round(Options const& options, Samples& samples)
{
    pid_t pid = spawn_process(qemu_command(options.images, { .exit_at_boot_marker = false, .vsock_cid = qemu_guest_cid }, {}),
        "/tmp/husk-bench-vsock-qemu.log");
    if (pid < 0) {
        std::fprintf(stderr, "qemu: cannot start %s\n", options.images.qemu.c_str());
        return false;
    }
    bool measured = false;
    auto stream = connect_vsock(qemu_guest_cid, husk::protocol::agent_port, Clock::now() + boot_timeout);
    if (!stream) {
        std::fprintf(stderr, "qemu: %s (log: /tmp/husk-bench-vsock-qemu.log)\n", stream.error().message.c_str());
    } else if (auto sandbox = husk::detail::SandboxAccess::attach(std::move(*stream), {}); !sandbox) {
        std::fprintf(stderr, "qemu: %s\n", sandbox.error().message.c_str());
    } else {
        measured = measure(*sandbox, options, samples, "qemu");
        (void)sandbox->shutdown();
    }
    // Shutdown resets the guest and QEMU (-no-reboot) exits; make sure of it either way.
    ::kill(pid, SIGKILL);
    (void)wait_process(pid);
    return measured;
}

void print_row(char const* what, char const* unit, Summary husk, Summary qemu, bool lower_is_better)
{
    std::printf("  %-12s husk median %9.1f p99 %9.1f   qemu median %9.1f p99 %9.1f %-6s  ratio husk/qemu %.2f%s\n", what,
        husk.median, husk.p99, qemu.median, qemu.p99, unit, husk.median / qemu.median,
        lower_is_better ? " (lower is better)" : " (higher is better)");
}

} // namespace

int main(int argc, char** argv)
{
    Options options;
    int mib = static_cast<int>(options.bytes >> 20);
    CLI::App app { "The job channel over virtio-vsock: husk-vmm against QEMU's vhost-vsock", "husk_bench_vsock" };
    add_image_options(app, options.images);
    app.add_option("--rounds", options.rounds, "Rounds, alternating the peers")->check(CLI::Range(1, 10000))->capture_default_str();
    app.add_option("--mib", mib, "MiB streamed each way per round")->check(CLI::Range(1, 4096))->capture_default_str();
    if (auto status = parse_bench_arguments(app, argc, argv))
        return *status;
    options.bytes = static_cast<uint64_t>(mib) << 20;
    options.images.memory_mib = 256; // the agent buffers a little of each stream

    Samples husk, qemu;
    for (int round = 0; round < options.rounds; ++round) {
        std::fprintf(stderr, "round %d/%d\n", round + 1, options.rounds);
        if (!husk_round(options, husk) || !qemu_round(options, qemu))
            return 1;
    }
    std::printf("vsock job channel, %d rounds, %d pings and %llu MiB each way per round\n", options.rounds,
        pings_per_round, static_cast<unsigned long long>(options.bytes >> 20));
    print_row("round trip", "us", summarize(husk.rtt_us), summarize(qemu.rtt_us), true);
    print_row("guest->host", "MiB/s", summarize(husk.to_host_mib_s), summarize(qemu.to_host_mib_s), false);
    print_row("host->guest", "MiB/s", summarize(husk.to_guest_mib_s), summarize(qemu.to_guest_mib_s), false);
    return 0;
}
