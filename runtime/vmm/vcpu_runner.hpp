// VcpuRunner: the thread that drives one vCPU. It loops on KVM_RUN, dispatches port I/O and
// MMIO exits to the buses, turns terminal exits into stop requests, and answers the main
// thread's activity samples (for halt detection) between two KVM_RUN calls, since vCPU state
// can only be read while the vCPU is out of KVM_RUN.
#pragma once

#include "runtime/base/result.hpp"
#include "runtime/devices/bus.hpp"
#include "runtime/kvm/vcpu.hpp"
#include "runtime/vmm/halt_detector.hpp"
#include "runtime/vmm/machine_config.hpp"
#include "runtime/vmm/stop_controller.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <string>

namespace husk {

enum class DebugMode { Off, On };

struct VcpuRunnerShared {
    Bus const& pio_bus;
    Bus const& mmio_bus;
    StopController& stop;
    // Called on a KVM reset/shutdown system event; the Machine classifies it like an i8042 reset.
    std::function<void(std::string_view mechanism)> on_guest_reset;
    // steady_clock nanoseconds of the first KVM_RUN of any vCPU; 0 until then.
    std::atomic<int64_t>& first_run_ns;
    DebugMode debug { DebugMode::Off };
    // Off: the thread runs unfiltered (--no-seccomp); otherwise it installs the vCPU filter.
    SeccompMode seccomp { SeccompMode::AllThreads };
};

class VcpuRunner {
public:
    VcpuRunner(Vcpu& vcpu, VcpuRunnerShared shared);
    VcpuRunner(VcpuRunner const&) = delete;
    VcpuRunner& operator=(VcpuRunner const&) = delete;
    // A thread still running is stopped (a stop request, VmmError unless the VM already stopped
    // for another reason), kicked out of KVM_RUN and joined.
    ~VcpuRunner();

    Result<void> start();
    // Makes the thread leave KVM_RUN (or not enter it) and look at its flags.
    void kick();
    void join();

    // Snapshots: request_pause() kicks the thread, which completes the I/O of its last exit
    // (an MMIO or port read lands in the guest's registers only on the next KVM_RUN, so it runs
    // once more with immediate_exit set) and then waits outside KVM_RUN, where another thread may
    // read and write the vCPU's state, until resume() or a stop request.
    void request_pause();
    // True once the thread is parked (or has ended); false at the deadline.
    bool wait_paused(std::chrono::steady_clock::time_point deadline);
    void resume();

    // Asks the thread for a fresh activity sample and kicks it; collect with wait_activity().
    void request_activity();
    std::optional<VcpuActivity> wait_activity(std::chrono::steady_clock::time_point deadline);

private:
    static void* thread_entry(void* self);
    void loop();
    void run_until_stopped();
    // false: this vCPU thread is done (a stop was requested).
    bool handle_exit(VcpuExit& exit);
    void dispatch_io(IoExit const& exit);
    void dispatch_mmio(MmioExit const& exit);
    void note_unmapped(char const* space, AccessDirection direction, uint64_t address, size_t size);
    void answer_activity_request();
    // false: the last exit needed handling first (or a stop came); the caller goes round again.
    bool park();
    void stop_with_kvm_error(std::string description);

    Vcpu& m_vcpu;
    VcpuRunnerShared m_shared;
    pthread_t m_thread {};
    bool m_running { false };

    std::atomic<bool> m_activity_requested { false };
    std::mutex m_activity_lock;
    std::condition_variable m_activity_ready;
    std::optional<VcpuActivity> m_activity;

    std::atomic<bool> m_pause_requested { false };
    std::mutex m_pause_lock;
    std::condition_variable m_pause_changed;
    bool m_paused { false }; // under m_pause_lock
    bool m_ended { false }; // under m_pause_lock: the thread returned

    // Touched by the vCPU thread only; summarised in a debug line when the thread ends.
    uint64_t m_unmapped_accesses { 0 };
    uint64_t m_runs { 0 };
    uint64_t m_io_exits { 0 };
    uint64_t m_mmio_exits { 0 };
    uint64_t m_interrupted_exits { 0 };
};

} // namespace husk
