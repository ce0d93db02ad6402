// AgentConnectHold: the markers through an eventfd, the bound as a loop timer.
#include "runtime/vmm/agent_connect_hold.hpp"

#include "runtime/base/log.hpp"

#include <poll.h>

namespace husk {

Result<std::unique_ptr<AgentConnectHold>> AgentConnectHold::create(
    EventLoop& loop, VsockDevice& device, AgentHoldLimits limits)
{
    auto wake = TRY(EventFd::create(EventFd::Mode::NonBlocking));
    std::unique_ptr<AgentConnectHold> hold(new AgentConnectHold(loop, device, limits, std::move(wake)));
    TRY_CONTEXT(hold->start(), "the cold-boot hold of vsock connects");
    return hold;
}

AgentConnectHold::AgentConnectHold(EventLoop& loop, VsockDevice& device, AgentHoldLimits limits, EventFd wake)
    : m_loop(loop)
    , m_device(device)
    , m_limits(limits)
    , m_wake(std::move(wake))
{
}

AgentConnectHold::~AgentConnectHold()
{
    // The loop no longer runs (or is destroyed next): cancelled completions never reach us.
    if (m_wake_poll)
        (void)m_loop.cancel(*m_wake_poll);
    if (m_bound_timer)
        (void)m_loop.cancel(*m_bound_timer);
    if (m_wake_registered)
        (void)m_loop.unregister_file(m_wake_file);
}

Result<void> AgentConnectHold::start()
{
    m_wake_file = TRY(m_loop.register_file(m_wake.fd()));
    m_wake_registered = true;
    m_wake_poll = TRY(m_loop.poll(m_wake_file, POLLIN, Multishot::Yes, [this](int result) { on_wake(result); }));
    m_device.hold_host_connects_until_agent_listens();
    arm_bound(m_limits.without_any_marker);
    return {};
}

void AgentConnectHold::note_boot_marker()
{
    m_boot_marker.store(true);
    (void)m_wake.signal();
}

void AgentConnectHold::note_agent_listening()
{
    m_agent_listening.store(true);
    (void)m_wake.signal();
}

void AgentConnectHold::on_wake(int result)
{
    if (result < 0) {
        m_wake_poll.reset(); // the poll's last completion
        return;
    }
    (void)m_wake.consume();
    if (m_ended)
        return;
    // Whatever order the guest wrote them in: its agent's report ends the hold.
    if (m_agent_listening.load()) {
        end(AgentHoldEnd::AgentListening);
        return;
    }
    if (m_boot_marker.load() && !m_boot_marker_handled) {
        m_boot_marker_handled = true;
        arm_bound(m_limits.after_boot_marker);
    }
}

void AgentConnectHold::arm_bound(std::chrono::milliseconds bound)
{
    if (m_bound_timer)
        (void)m_loop.cancel(*m_bound_timer);
    uint64_t generation = ++m_bound_generation;
    auto timer = m_loop.timeout(bound, [this, generation](int result) { on_bound(generation, result); });
    if (!timer) {
        // Without a bound the hold could last for ever: end it now instead.
        log_warn("virtio-vsock: cannot bound the cold-boot hold of host connects (" + timer.error().message
            + "); not holding them");
        m_bound_timer.reset();
        end(AgentHoldEnd::TimedOut);
        return;
    }
    m_bound_timer = *timer;
}

void AgentConnectHold::on_bound(uint64_t generation, int result)
{
    if (generation != m_bound_generation)
        return; // replaced by a later bound
    m_bound_timer.reset();
    if (result != 0 || m_ended)
        return; // cancelled
    log_info(std::string("virtio-vsock: husk-init's agent did not report listening ")
        + (m_boot_marker_handled
                ? "within " + std::to_string(m_limits.after_boot_marker.count()) + " ms of its boot marker"
                : "and no boot marker came within " + std::to_string(m_limits.without_any_marker.count()) + " ms")
        + "; host connects go to the guest from now on");
    end(AgentHoldEnd::TimedOut);
}

void AgentConnectHold::end(AgentHoldEnd why)
{
    m_ended = true;
    if (m_bound_timer) {
        (void)m_loop.cancel(*m_bound_timer);
        ++m_bound_generation; // its -ECANCELED completion is then ignored
        m_bound_timer.reset();
    }
    m_device.end_agent_hold(why);
}

} // namespace husk
