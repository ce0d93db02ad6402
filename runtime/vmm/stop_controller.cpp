// StopController: first-wins stop decision.
#include "runtime/vmm/stop_controller.hpp"

#include "runtime/base/log.hpp"

namespace husk {

Result<StopController> StopController::create()
{
    auto event = TRY(EventFd::create(EventFd::Mode::NonBlocking));
    return StopController(std::move(event));
}

StopController::StopController(StopController&& other) noexcept
    : m_event(std::move(other.m_event))
    , m_decision(std::move(other.m_decision))
    , m_requested(other.m_requested.load())
{
}

bool StopController::request(StopReason reason, std::string detail)
{
    {
        std::lock_guard lock(m_lock);
        if (m_decision)
            return false;
        m_decision = StopRequest { reason, std::move(detail) };
        m_requested.store(true);
    }
    // An eventfd counter cannot overflow with one signal per VM; if the write failed anyway the
    // main thread still notices at its next periodic wake-up through requested().
    if (auto signalled = m_event.signal(); !signalled)
        log_warn("stop request: " + signalled.error().message);
    return true;
}

std::optional<StopRequest> StopController::decision() const
{
    std::lock_guard lock(m_lock);
    return m_decision;
}

StopRequest classify_guest_reset(GuestStatus const& status, std::string_view mechanism)
{
    if (status.shutdown_intent)
        return { StopReason::GuestShutdown,
            "guest shut down (" + std::string(mechanism) + " after husk-init's shutdown notice)" };
    return { StopReason::GuestCrashed,
        "guest reset itself without a shutdown notice (" + std::string(mechanism)
            + "): a kernel panic or the end of init" };
}

} // namespace husk
