// StopController: the one place a VM stop is decided. Any thread (a vCPU thread on a reset or a
// KVM error, the main thread on a timeout or signal) may request a stop; the first request wins
// and wakes the main thread through an eventfd, later ones are ignored.
#pragma once

#include "runtime/base/event_fd.hpp"
#include "runtime/base/result.hpp"
#include "runtime/devices/status_device.hpp"
#include "runtime/vmm/stop_reason.hpp"

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace husk {

struct StopRequest {
    StopReason reason { StopReason::VmmError };
    std::string detail;
};

class StopController {
public:
    static Result<StopController> create();
    StopController(StopController&& other) noexcept;
    StopController& operator=(StopController&&) = delete;

    // Returns true when this call decided the stop (it was the first).
    bool request(StopReason reason, std::string detail);
    // Cheap enough for every vCPU loop iteration.
    bool requested() const { return m_requested.load(); }
    std::optional<StopRequest> decision() const;
    // Readable once a stop was requested: poll(2) it.
    int event_fd() const { return m_event.fd(); }

private:
    explicit StopController(EventFd event)
        : m_event(std::move(event))
    {
    }

    EventFd m_event;
    mutable std::mutex m_lock;
    std::optional<StopRequest> m_decision;
    std::atomic<bool> m_requested { false };
};

// A guest reset (i8042 0xFE, port 0xcf9, a KVM reset/shutdown event) is how Linux ends with
// reboot=k: after husk-init announced a clean shutdown it is GuestShutdown; otherwise it is a
// kernel panic (panic=-1 reboots at once) or the death of init, so GuestCrashed. `mechanism`
// names the reset path for the detail text.
StopRequest classify_guest_reset(GuestStatus const& status, std::string_view mechanism);

} // namespace husk
