// AgentConnectHold on a real io_uring loop, with short bounds: the agent's report ends the cold-
// boot hold at once, the bound ends it without one (counted from the start, then from the boot
// marker), and markers from another thread, in any order or twice, change nothing more.
#include "runtime/vmm/agent_connect_hold.hpp"

#include "tests/unit/runtime/io/event_loop_test_support.hpp"
#include "tests/unit/virtio/vsock/fake_vsock_backend.hpp"

#include <chrono>
#include <gtest/gtest.h>
#include <thread>

using namespace husk;
using namespace std::chrono_literals;
using husk::testing::FakeVsockBackend;
using husk::testing_io::all_opcodes_config;
using husk::testing_io::run_until;

namespace {

// A vsock device (no driver) and the hold on it, with `limits`.
struct HeldDevice {
    HeldDevice(EventLoop& loop, AgentHoldLimits limits)
    {
        auto created = AgentConnectHold::create(loop, device, limits);
        EXPECT_TRUE(created) << created.error().message;
        if (created)
            hold = std::move(created).value();
    }
    bool holding() const { return device.host_connect_hold() == HostConnectHold::AgentNotListening; }
    VsockDeviceStats stats() const { return device.stats(); }

    FakeVsockBackend backend;
    VsockDevice device { 5, backend };
    std::unique_ptr<AgentConnectHold> hold;
};

// Runs the loop for `duration`, whatever happens meanwhile.
void run_for(EventLoop& loop, std::chrono::milliseconds duration)
{
    auto until = std::chrono::steady_clock::now() + duration;
    (void)run_until(
        loop, [&] { return std::chrono::steady_clock::now() >= until; }, duration + 1s);
}

TEST(AgentConnectHold, TheAgentsReport_EndsTheHoldAtOnce)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    HeldDevice held(loop, { 10s, 10s });
    ASSERT_TRUE(held.hold);
    ASSERT_TRUE(held.holding());
    ASSERT_TRUE(held.backend.events->on_host_connect(1024)); // no driver yet: held

    std::thread vcpu([&held] {
        held.hold->note_boot_marker();
        held.hold->note_agent_listening();
    });
    vcpu.join();

    EXPECT_TRUE(run_until(
        loop, [&] { return !held.holding(); }, 2s));
    EXPECT_EQ(held.stats().agent_holds_ended_by_agent, 1u);
    EXPECT_EQ(held.stats().agent_holds_timed_out, 0u);
}

TEST(AgentConnectHold, NoMarkerAtAll_TheHoldEndsAtItsBound)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    auto started = std::chrono::steady_clock::now();
    HeldDevice held(loop, { 100ms, 10s });
    ASSERT_TRUE(held.hold);

    ASSERT_TRUE(run_until(
        loop, [&] { return !held.holding(); }, 3s));

    EXPECT_GE(std::chrono::steady_clock::now() - started, 100ms);
    EXPECT_EQ(held.stats().agent_holds_timed_out, 1u);
    EXPECT_EQ(held.stats().agent_holds_ended_by_agent, 0u);
}

TEST(AgentConnectHold, TheBootMarker_StartsItsOwnBound)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    HeldDevice held(loop, { 150ms, 400ms });
    ASSERT_TRUE(held.hold);
    held.hold->note_boot_marker();
    auto marked = std::chrono::steady_clock::now();

    run_for(loop, 250ms); // past the first bound: the marker replaced it
    EXPECT_TRUE(held.holding());
    ASSERT_TRUE(run_until(
        loop, [&] { return !held.holding(); }, 3s));

    EXPECT_GE(std::chrono::steady_clock::now() - marked, 400ms);
    EXPECT_EQ(held.stats().agent_holds_timed_out, 1u);
}

TEST(AgentConnectHold, TheAgentsReportFirstOrTwice_EndsTheHoldOnce)
{
    HUSK_CREATE_LOOP_OR_SKIP(loop, all_opcodes_config());
    HeldDevice held(loop, { 100ms, 100ms });
    ASSERT_TRUE(held.hold);
    held.hold->note_agent_listening(); // before the boot marker: a hostile guest's order
    held.hold->note_agent_listening();
    held.hold->note_boot_marker();

    ASSERT_TRUE(run_until(
        loop, [&] { return !held.holding(); }, 2s));
    run_for(loop, 300ms); // the bounds would have fired by now

    EXPECT_EQ(held.stats().agent_holds_ended_by_agent, 1u);
    EXPECT_EQ(held.stats().agent_holds_timed_out, 0u);
}

} // namespace
