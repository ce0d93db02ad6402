// The host side of a hostile-guest case: the disk images the guest attacks (a read-write one and
// a read-only one whose bytes must never change) and the vsock listener the guest's probe talks
// to (`<uds>_1234`, answering "ping" with "pong"), which also checks that husk-vmm's own vsock
// socket still accepts connections while the guest misbehaves, and two misbehaving host ends;
// the directory shared over virtio-9p (`share/`, with the file the guest's probe reads and a
// symlink pointing out of it) and, beside it, `outside/`, which no 9P request may ever change.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace husk::lab {

inline constexpr uint32_t hostile_probe_port = 1234; // tests/guests/devices/vsock_driver.hpp
// Host edge cases (tests/guests/cases/vsock_host_edges.cpp): a listener that never accepts, and
// one that accepts but never reads.
inline constexpr uint32_t hostile_never_accepting_port = 1236;
inline constexpr uint32_t hostile_never_reading_port = 1237;
inline constexpr uint64_t hostile_disk_size = 1 << 20;
// tests/guests/devices/p9_driver.hpp: what the probe reads.
inline constexpr char hostile_share_tag[] = "hostile";
inline constexpr char hostile_share_probe_contents[] = "HUSK-HOSTILE-SHARE\n";

class HostileHostSide {
public:
    // Creates a fresh directory under /tmp with both images and starts the listener.
    HostileHostSide();
    ~HostileHostSide();
    HostileHostSide(HostileHostSide const&) = delete;
    HostileHostSide& operator=(HostileHostSide const&) = delete;

    std::string const& directory() const { return m_directory; }
    std::string rw_disk() const { return m_directory + "/rw.img"; }
    std::string ro_disk() const { return m_directory + "/ro.img"; }
    std::string vsock_path() const { return m_directory + "/v.sock"; }
    std::string share_directory() const { return m_directory + "/share"; }

    // Whether everything in the case's directory outside share/ (the images, outside/ and its
    // files, the directory's own entries; sockets aside) is as it was at creation: names,
    // types, modes, sizes, times and contents.
    bool outside_of_share_intact() const;

    // Whether the read-only image still holds exactly what was written at creation.
    bool read_only_disk_intact() const;
    unsigned pings() const { return m_pings.load(); }
    // Connections to husk-vmm's own socket made after the first ping, and how many succeeded.
    unsigned uds_connects_tried() const { return m_uds_tried.load(); }
    unsigned uds_connects_accepted() const { return m_uds_accepted.load(); }

private:
    void serve();
    void serve_connection(int fd);
    void try_vmm_socket();

    std::string m_directory;
    std::vector<uint8_t> m_ro_contents;
    std::string m_outside_snapshot;
    int m_listener { -1 };
    int m_never_accepting { -1 };
    int m_never_reading { -1 };
    std::vector<int> m_unread; // accepted on m_never_reading, never read
    int m_wake[2] { -1, -1 };
    std::thread m_thread;
    std::atomic<unsigned> m_pings { 0 };
    std::atomic<unsigned> m_uds_tried { 0 };
    std::atomic<unsigned> m_uds_accepted { 0 };
};

} // namespace husk::lab
