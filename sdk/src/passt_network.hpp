// PasstNetwork: a sandbox's network where the VM is not jailed (no root): passt, a user-mode
// network stack (Debian package passt), at the other end of a socketpair whose other end
// husk-vmm gets as `--net-stream fd=N`. passt turns the guest's TCP, UDP and ICMP echo into its
// own sockets on the host, as the user that started it; it sandboxes itself (namespaces,
// seccomp) and is not jailed by husk. It runs in the foreground as this process's child (the
// parent-death signal as husk-vmm), and exits by itself once husk-vmm closes its end (--fd
// implies passt's --one-off); the sandbox kills it at the end anyway.
//
// What it gives is `internet` in passt's sense: whatever this host's user can reach. There is
// no policy underneath, so allow-lists are refused (check_passt_network) rather than silently
// opened. The guest gets fixed addresses (passt_guest_kernel_arguments), the gateway is not
// mapped to the host's loopback (--no-map-gw), IPv4 only, DNS through passt's forwarder to
// the host's resolver (or straight to dns_servers), published ports as passt's -t.
#pragma once

#include "husk/options.hpp"
#include "runtime/base/fd.hpp"
#include "runtime/base/result.hpp"
#include "sdk/src/vmm_child.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace husk::detail {

// The guest's side of passt's network.
inline constexpr char const* passt_guest_address = "10.0.2.15";
inline constexpr unsigned passt_guest_prefix = 24;
inline constexpr char const* passt_gateway = "10.0.2.2";
inline constexpr char const* passt_dns = "10.0.2.3"; // passt forwards it to the host's resolver

// husk-init takes at most this many nameservers (as glibc's resolver uses).
inline constexpr size_t max_guest_nameservers = 3;

// BadConfig with one sentence for what passt cannot do: allow-lists (no policy without root), and
// dns_servers on this host's loopback (the guest asks them itself, and cannot reach it).
Result<void> check_passt_network(SandboxOptions const& options);
// husk.ip=..., husk.gw=..., husk.dns=... for husk-init: passt's DNS forwarder, or the first
// max_guest_nameservers of dns_servers (see passt_argv).
std::string passt_guest_kernel_arguments(SandboxOptions const& options);
// passt's argv (argv[0] = `passt`), its socket at descriptor `fd`.
std::vector<std::string> passt_argv(std::string const& passt, int fd, SandboxOptions const& options);

using MacBytes = std::array<uint8_t, 6>;
// husk-vmm's side: `--net-stream fd=N,mac=MAC`, the socket inherited as VmmChild's
// passed_fd_number and the guest's MAC the one passt was probed from.
std::vector<std::string> passt_vmm_arguments(MacBytes const& guest_mac);

// Sends passt, over `socket`, an ARP request for the gateway from the guest's address and MAC,
// and reads its reply: passt is up and speaks the protocol (its pid file is no signal: passt
// writes it after dropping to nobody when started as root, so it may not be able to). Errors:
// the socket closed (passt exited), an answer that is not that ARP reply, the deadline.
Result<void> probe_passt(int socket, MacBytes const& mac, std::chrono::steady_clock::time_point deadline);
// "02:..:..": a random locally administered unicast MAC for the guest.
MacBytes random_guest_mac();
std::string format_mac(MacBytes const& mac);
// The passt binary: $HUSK_PASST, else `passt` on PATH. BadConfig naming the package if none.
Result<std::string> find_passt();

class PasstNetwork {
public:
    // Starts passt with its log in `directory`/passt.log and waits (until `deadline`) until it
    // answers probe_passt() sent from `guest_mac` (random_guest_mac() for a new guest, the
    // snapshot's for a restored one); fails with passt's last log lines if it does not.
    static Result<PasstNetwork> start(SandboxOptions const& options, std::string const& directory, MacBytes guest_mac,
        std::chrono::steady_clock::time_point deadline);
    // The guest's MAC: the probe came from it, so passt already knows it (--net-stream mac=).
    MacBytes const& guest_mac() const { return m_mac; }
    // The socket for husk-vmm (pass it as VmmChild::spawn's pass_fd); close it after the spawn.
    int vmm_socket() const { return m_vmm_socket.get(); }
    void close_vmm_socket() { m_vmm_socket.reset(); }
    VmmChild& process() { return *m_process; }
    // Kills and reaps passt. Idempotent.
    void stop();

private:
    PasstNetwork(VmmChild process, Fd vmm_socket, MacBytes mac)
        : m_process(std::move(process))
        , m_vmm_socket(std::move(vmm_socket))
        , m_mac(mac)
    {
    }
    std::optional<VmmChild> m_process;
    Fd m_vmm_socket;
    MacBytes m_mac {};
};

} // namespace husk::detail
