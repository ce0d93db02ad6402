// AgentConnectHold: the bounds of virtio-vsock's cold-boot hold of host connects
// (VsockDevice::hold_host_connects_until_agent_listens). husk-init reports its agent listening
// through the status device (status_port::agent_listening); the hold ends then, or at a bound if
// that report never comes:
// - without any marker, `without_any_marker` after the hold began (the event thread's start,
//   just before the first KVM_RUN): a guest that is not husk-init, or whose kernel lacks ioperm
//   (husk-init then reports nothing);
// - after the boot marker, `after_boot_marker` from it: a husk-init that predates the report, one
//   running a job instead of the agent, one whose boot broke before the agent.
// Connects go to the guest from then on, as without the hold (the guest refuses them until it
// listens; libhusk retries).
//
// Threading: create() and cancel() on the loop's thread (or before the loop runs); the markers
// come from vCPU threads through an eventfd the loop polls.
#pragma once

#include "runtime/base/event_fd.hpp"
#include "runtime/base/result.hpp"
#include "runtime/io/event_loop.hpp"
#include "virtio/vsock/vsock_device.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

namespace husk {

struct AgentHoldLimits {
    // husk guests reach the boot marker 0.1-0.3 s after the first KVM_RUN on hardware KVM and
    // 3-5 s in the lab (nested KVM under TCG), up to about 10 s there on a loaded machine: a
    // guest silent for 10 s is not running husk-init's agent. libhusk's connect deadline
    // (SandboxOptions::boot_timeout, 30 s by default) leaves two thirds of itself for the
    // refuse-and-retry path after that.
    std::chrono::milliseconds without_any_marker { 10'000 };
    // husk-init listens 50-360 ms after its boot marker in the loaded lab (mounts, the root
    // switch, the network). Past the bound a slow husk-init only sees refused connects again (as
    // without the hold), while an image whose husk-init never reports (an older one) waits all of
    // it before its first connect: 5 s cost such an image 5 s in the lab, so 2 s, over five times
    // the worst setup seen.
    std::chrono::milliseconds after_boot_marker { 2'000 };
};

class AgentConnectHold {
public:
    // Starts holding host connects on `device` and the first bound, counted from now. `loop` and
    // `device` must outlive the hold; so must the hold every completion it queued on `loop` (keep
    // it until the loop is destroyed or no longer run).
    static Result<std::unique_ptr<AgentConnectHold>> create(
        EventLoop& loop, VsockDevice& device, AgentHoldLimits limits = {});
    ~AgentConnectHold();
    AgentConnectHold(AgentConnectHold const&) = delete;
    AgentConnectHold& operator=(AgentConnectHold const&) = delete;

    // From any thread (the status device's callbacks, on vCPU threads).
    void note_boot_marker();
    void note_agent_listening();

private:
    AgentConnectHold(EventLoop& loop, VsockDevice& device, AgentHoldLimits limits, EventFd wake);
    Result<void> start();
    // On the loop's thread.
    void on_wake(int result);
    void arm_bound(std::chrono::milliseconds bound);
    void on_bound(uint64_t generation, int result);
    void end(AgentHoldEnd why);

    EventLoop& m_loop;
    VsockDevice& m_device;
    AgentHoldLimits m_limits;
    EventFd m_wake;
    FixedFile m_wake_file {};
    bool m_wake_registered { false };
    std::optional<OperationId> m_wake_poll;
    std::optional<OperationId> m_bound_timer;
    uint64_t m_bound_generation { 0 }; // a cancelled timer's late completion names an older one
    std::atomic<bool> m_boot_marker { false };
    std::atomic<bool> m_agent_listening { false };
    bool m_boot_marker_handled { false };
    bool m_ended { false };
};

} // namespace husk
