// The network side of the hostile-guest suite: a tap in a network namespace of the suite's own,
// whose host end has hostile_net_host_address (so the host kernel answers the guest probe's ARP
// requests), and, while a net case runs, a stream of frames into the guest through the tap
// (AF_PACKET on its host end), so receive attacks happen with traffic in flight.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
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

// The tap's counters in this namespace (/proc/self/net/dev). Frames for the guest count as the
// tap's transmits when husk-vmm reads them or when the tap drops them (its queue full, or no
// husk-vmm attached); frames from the guest as its receives.
struct TapCounters {
    uint64_t read_by_vmm { 0 };
    uint64_t dropped { 0 };
    uint64_t from_guest { 0 };
};
std::optional<TapCounters> read_tap_counters();
// The same, as a line for a failed case's log.
std::string hostile_tap_counters();

// Sends frames to the guest's MAC through the tap while it lives: 1000-byte frames every 2 ms,
// with a full 1514-byte one every tenth, but never more than max_unread_frames that husk-vmm has
// not read yet. The tap is a FIFO of 500 frames: a guest that stops receiving during an attack
// would otherwise find hundreds of frames queued ahead of the probe's ARP reply afterwards, and
// a slow guest (the lab's TCG on a loaded machine drains some 20 a second) could not reach the
// reply within the probe's time.
class HostileNetTraffic {
public:
    HostileNetTraffic();
    ~HostileNetTraffic();
    HostileNetTraffic(HostileNetTraffic const&) = delete;
    HostileNetTraffic& operator=(HostileNetTraffic const&) = delete;

    static constexpr uint64_t max_unread_frames = 32;

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
