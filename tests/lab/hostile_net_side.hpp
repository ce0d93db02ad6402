// The network side of the hostile-guest suite: a tap in a network namespace of the suite's own,
// whose host end has hostile_net_host_address (so the host kernel answers the guest probe's ARP
// requests), and, while a net case runs, a stream of frames into the guest through the tap
// (AF_PACKET on its host end), so receive attacks happen with traffic in flight.
#pragma once

#include <atomic>
#include <string>
#include <thread>

namespace husk::lab {

inline constexpr char hostile_tap_name[] = "hostile0";
// tests/guests/devices/net_driver.hpp: net_host_ip / net_guest_ip.
inline constexpr char hostile_net_host_address[] = "10.78.0.1";
inline constexpr char hostile_guest_mac[] = "52:54:00:48:4b:01";
// What husk-vmm gets: the tap, the guest's MAC and rate limits low enough that the flood cases
// run into them even under the lab's TCG.
std::string hostile_net_tap_option();

// Moves the calling process into a new network namespace with the tap set up (persistent, so
// every case's husk-vmm attaches to the same one). An empty string, or why it failed.
std::string set_up_hostile_network();

// The tap's counters as the host kernel sees them, for a failed case's log: what reached the
// tap for the guest (tx), what husk-vmm read (tx, counted as read), what the tap dropped because
// husk-vmm did not read fast enough (tx_dropped) and what the guest sent (rx).
std::string hostile_tap_counters();

// Sends frames to the guest's MAC through the tap while it lives: 1000-byte frames every 2 ms,
// with a full 1514-byte one every tenth.
class HostileNetTraffic {
public:
    HostileNetTraffic();
    ~HostileNetTraffic();
    HostileNetTraffic(HostileNetTraffic const&) = delete;
    HostileNetTraffic& operator=(HostileNetTraffic const&) = delete;

    unsigned frames_sent() const { return m_sent.load(); }

private:
    void run();

    int m_socket { -1 };
    int m_interface { 0 };
    std::atomic<bool> m_stop { false };
    std::atomic<unsigned> m_sent { 0 };
    std::thread m_thread;
};

} // namespace husk::lab
