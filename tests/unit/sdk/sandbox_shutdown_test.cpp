// Sandbox::shutdown when the agent's Ack never arrives: a scripted agent that closes the
// connection right after Shutdown, and a stand-in VMM whose exit and stop report decide whether
// the guest powered off cleanly (the Ack lost on the way) or something went wrong.
#include "tests/unit/testing/scratch_dir.hpp"
#include "sdk/src/sandbox_state.hpp"
#include "tests/unit/sdk/fake_agent.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

namespace husk::sdk_testing {
namespace {

    using namespace std::chrono_literals;

    class SandboxShutdown : public ::testing::Test {
    protected:
        void TearDown() override
        {
            sandbox.reset();
            agent.reset();
        }

        // Attaches to an agent that answers Shutdown by closing its end, or with an Ack.
        void attach(bool ack_shutdown)
        {
            SocketPair pair;
            int agent_fd = pair.agent.get();
            agent.emplace(std::move(pair.agent), [agent_fd, ack_shutdown](Frame const& frame) {
                auto message = decode_message(frame, Peer::Host);
                if (!ack_shutdown && message && std::holds_alternative<Shutdown>(*message)) {
                    ::shutdown(agent_fd, SHUT_RDWR);
                    return std::vector<uint8_t> {};
                }
                return greet_reply(frame);
            });
            auto attached = detail::SandboxAccess::attach(std::move(pair.host), {});
            ASSERT_TRUE(attached) << attached.error().message;
            sandbox.emplace(std::move(*attached));
        }

        // A stand-in husk-vmm: writes `report` as its stop report, then runs `script`.
        void give_vmm(std::string const& report, std::string const& script)
        {
            auto& state = detail::SandboxAccess::state(*sandbox);
            state.report_path = dir + "/report.json";
            state.log_path = dir + "/vmm.log";
            std::ofstream(state.report_path) << report;
            auto vmm = detail::VmmChild::spawn({ "/bin/sh", "-c", script }, state.log_path);
            ASSERT_TRUE(vmm) << vmm.error().message;
            state.vmm.emplace(std::move(*vmm));
        }

        test_support::ScratchDir scratch { "husk-shutdown-test" };
        std::string const dir { scratch.path() };
        std::optional<FakeAgent> agent;
        std::optional<Sandbox> sandbox;
    };

    constexpr char const* guest_shutdown_report = R"({"stop_reason":"guest-shutdown","exit_status":0})";

    TEST_F(SandboxShutdown, AgentClosesInsteadOfAckAndVmmReportsGuestShutdown_IsClean)
    {
        attach(false);
        give_vmm(guest_shutdown_report, "sleep 0.2; exit 0");

        auto stopped = sandbox->shutdown();

        EXPECT_TRUE(stopped) << stopped.error().message;
    }

    TEST_F(SandboxShutdown, AgentAcksAndVmmExitsCleanly_IsClean)
    {
        attach(true);
        give_vmm(guest_shutdown_report, "sleep 0.2; exit 0");

        auto stopped = sandbox->shutdown();

        EXPECT_TRUE(stopped) << stopped.error().message;
    }

    TEST_F(SandboxShutdown, AgentClosesInsteadOfAckAndVmmFails_IsAnError)
    {
        attach(false);
        give_vmm(R"({"stop_reason":"vmm-error","exit_status":1})", "exit 1");

        auto stopped = sandbox->shutdown();

        ASSERT_FALSE(stopped);
        EXPECT_EQ(stopped.error().kind, ErrorKind::AgentDisconnected);
    }

    TEST_F(SandboxShutdown, AgentClosesInsteadOfAckAndVmmExitsZeroWithoutAGuestShutdown_IsAnError)
    {
        // Exit status 0 alone is not enough: the report must say the guest powered off.
        attach(false);
        give_vmm(R"({"stop_reason":"guest-halted","exit_status":0})", "exit 0");

        EXPECT_FALSE(sandbox->shutdown());
    }

    TEST_F(SandboxShutdown, AgentClosesInsteadOfAckAndTheReportIsMalformed_IsAnError)
    {
        // The report comes from a process the guest may have influenced: malformed reads as absent.
        for (char const* report : { "", "{", "[\"guest-shutdown\"]", R"({"stop_reason":5})",
                 R"({"stop_reason":"guest-shutdown")", "\xff\xfe", R"({"stop_reason":["guest-shutdown"]})" }) {
            TearDown();
            SetUp();
            attach(false);
            give_vmm(report, "exit 0");

            EXPECT_FALSE(sandbox->shutdown()) << "report: " << report;
        }
    }

    TEST_F(SandboxShutdown, AgentClosesInsteadOfAckAndVmmKeepsRunning_KillsItAndIsAnError)
    {
        attach(false);
        give_vmm(guest_shutdown_report, "exec sleep 30");
        auto started = std::chrono::steady_clock::now();

        auto stopped = sandbox->shutdown();

        EXPECT_FALSE(stopped);
        EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
    }

    TEST_F(SandboxShutdown, NothingToFlush_VmmIsToldToStopAndNoShutdownIsSent)
    {
        std::atomic<bool> shutdown_sent { false };
        SocketPair pair;
        agent.emplace(std::move(pair.agent), [&shutdown_sent](Frame const& frame) {
            auto message = decode_message(frame, Peer::Host);
            if (message && std::holds_alternative<Shutdown>(*message))
                shutdown_sent = true;
            return greet_reply(frame);
        });
        auto attached = detail::SandboxAccess::attach(std::move(pair.host), {});
        ASSERT_TRUE(attached) << attached.error().message;
        sandbox.emplace(std::move(*attached));
        detail::SandboxAccess::state(*sandbox).may_end_without_guest = true;
        // As husk-vmm does on SIGTERM: stop at once and exit with the host-signal status.
        give_vmm(R"({"stop_reason":"host-signal"})", "trap 'exit 5' TERM; while :; do sleep 0.05; done");
        auto started = std::chrono::steady_clock::now();

        auto stopped = sandbox->shutdown();

        EXPECT_TRUE(stopped) << stopped.error().message;
        EXPECT_FALSE(shutdown_sent);
        EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms); // not the 2 s exit limit and a kill
        auto const& state = detail::SandboxAccess::state(*sandbox);
        EXPECT_FALSE(state.vmm->peek_exit()); // reaped
    }

    TEST(SandboxEnd, MayEndWithoutGuest_OnlyWithoutWritableShares)
    {
        SandboxOptions options;
        EXPECT_TRUE(detail::may_end_without_guest(options));
        options.mounts = { { "/srv/in", "/in", true } };
        EXPECT_TRUE(detail::may_end_without_guest(options));
        options.mounts.push_back({ "/srv/out", "/out", false });
        EXPECT_FALSE(detail::may_end_without_guest(options));

        SandboxOptions root;
        root.rootfs_dir = "/srv/root";
        EXPECT_TRUE(detail::may_end_without_guest(root)); // writes go to the overlay in guest RAM
        root.rootfs_writes = RootfsWrites::InPlace;
        EXPECT_FALSE(detail::may_end_without_guest(root));
    }

    TEST_F(SandboxShutdown, AgentClosesInsteadOfAckWithoutAVmm_IsAgentDisconnected)
    {
        attach(false);

        auto stopped = sandbox->shutdown();

        ASSERT_FALSE(stopped);
        EXPECT_EQ(stopped.error().kind, ErrorKind::AgentDisconnected);
    }

} // namespace
} // namespace husk::sdk_testing
