// Progress of the one long step of `husk run`, the VM's boot, on stderr. A boot is usually
// too quick to mention; when it is not (nested emulation, a big root filesystem, an overloaded
// host), a line after the first second says what husk is waiting for, and another how long it
// took. Only where someone watches (stderr is a terminal) or -v asks for it; never with -q.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace husk::cli {

class BootProgress {
public:
    // Starts watching; `what` describes the VM ("1 vCPU, 256 MiB").
    BootProgress(bool enabled, std::string what);
    ~BootProgress() { finish(); }
    BootProgress(BootProgress const&) = delete;
    BootProgress& operator=(BootProgress const&) = delete;

    // The boot is over (whether it worked or not); says how long it took if it said anything.
    void finish();

    static constexpr std::chrono::milliseconds quiet_period { 1000 };

private:
    void watch();

    std::string m_what;
    std::chrono::steady_clock::time_point m_started;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    bool m_finished { false };
    bool m_announced { false };
    std::thread m_thread;
};

// Whether progress lines are wanted: -v, or stderr is a terminal; never with -q.
bool progress_wanted(bool quiet, bool verbose);

} // namespace husk::cli
