// AgentConnectHold on a real io_uring loop, with short bounds: the agent's report ends the cold-
// boot hold at once, the bound ends it without one (counted from the start, then from the boot
// marker), and markers from another thread, in any order or twice, change nothing more.
#include "runtime/vmm/agent_connect_hold.hpp"

#include "tests/unit/virtio/vsock/fake_vsock_backend.hpp"

#include <chrono>
#include <functional>
#include <gtest/gtest.h>
#include <optional>
#include <thread>

using namespace husk;
using namespace std::chrono_literals;
using husk::testing::FakeVsockBackend;

namespace {

class AgentConnectHoldTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        EventLoopConfig config;
        config.opcodes = { IoOpcode::Timeout };
        config.fixed_file_count = 4;
        config.queue_depth = 16;
        auto created = EventLoop::create(config);
        if (!created && created.error().message.find("io_uring is unavailable") != std::string::npos)
            GTEST_SKIP() << "SKIPPING: this host refuses io_uring, AgentConnectHold is NOT tested here: "
                         << created.error().message;
        ASSERT_TRUE(created) << created.error().message;
        loop.emplace(std::move(created).value());
    }
    void TearDown() override
    {
        hold.reset();
        loop.reset();
    }
    void create(AgentHoldLimits limits)
    {
        auto created = AgentConnectHold::create(*loop, device, limits);
        ASSERT_TRUE(created) << created.error().message;
        hold = std::move(created).value();
    }
    // Runs the loop until `done` or `limit`; true when done.
    bool run_until(std::function<bool()> const& done, std::chrono::milliseconds limit = 3s)
    {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() >= deadline)
                return false;
            auto processed = loop->run_once(5ms);
            if (!processed) {
                ADD_FAILURE() << processed.error().message;
                return false;
            }
        }
        return true;
    }
    void run_for(std::chrono::milliseconds duration)
    {
        auto until = std::chrono::steady_clock::now() + duration;
        (void)run_until([&] { return std::chrono::steady_clock::now() >= until; }, duration + 1s);
    }
    bool holding() const { return device.host_connect_hold() == HostConnectHold::AgentNotListening; }

    std::optional<EventLoop> loop;
    FakeVsockBackend backend;
    VsockDevice device { 5, backend };
    std::unique_ptr<AgentConnectHold> hold;
};

TEST_F(AgentConnectHoldTest, TheAgentsReport_EndsTheHoldAtOnce)
{
    create({ 10s, 10s });
    ASSERT_TRUE(holding());
    auto key = backend.events->on_host_connect(1024); // no driver yet: held
    ASSERT_TRUE(key);

    std::thread vcpu([this] {
        hold->note_boot_marker();
        hold->note_agent_listening();
    });
    vcpu.join();

    EXPECT_TRUE(run_until([this] { return !holding(); }, 2s));
    EXPECT_EQ(device.stats().agent_holds_ended_by_agent, 1u);
    EXPECT_EQ(device.stats().agent_holds_timed_out, 0u);
}

TEST_F(AgentConnectHoldTest, NoMarkerAtAll_TheHoldEndsAtItsBound)
{
    auto started = std::chrono::steady_clock::now();
    create({ 100ms, 10s });

    ASSERT_TRUE(run_until([this] { return !holding(); }, 3s));

    EXPECT_GE(std::chrono::steady_clock::now() - started, 100ms);
    EXPECT_EQ(device.stats().agent_holds_timed_out, 1u);
    EXPECT_EQ(device.stats().agent_holds_ended_by_agent, 0u);
}

TEST_F(AgentConnectHoldTest, TheBootMarker_StartsItsOwnBound)
{
    create({ 150ms, 400ms });
    hold->note_boot_marker();
    auto marked = std::chrono::steady_clock::now();

    run_for(250ms); // past the first bound: the marker replaced it
    EXPECT_TRUE(holding());
    ASSERT_TRUE(run_until([this] { return !holding(); }, 3s));

    EXPECT_GE(std::chrono::steady_clock::now() - marked, 400ms);
    EXPECT_EQ(device.stats().agent_holds_timed_out, 1u);
}

TEST_F(AgentConnectHoldTest, TheAgentsReportFirstOrTwice_EndsTheHoldOnce)
{
    create({ 100ms, 100ms });
    hold->note_agent_listening(); // before the boot marker: a hostile guest's order
    hold->note_agent_listening();
    hold->note_boot_marker();

    ASSERT_TRUE(run_until([this] { return !holding(); }, 2s));
    run_for(300ms); // the bounds would have fired by now

    EXPECT_EQ(device.stats().agent_holds_ended_by_agent, 1u);
    EXPECT_EQ(device.stats().agent_holds_timed_out, 0u);
}

} // namespace
